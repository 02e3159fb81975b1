/**
 * Basic auth on the bundled Alertmanager, as rendered and generated: the Prometheus alerting block
 * with `basic_auth.password_file` (exact, and accepted by Debian's promtool 2.42), Alertmanager's
 * `--web.config.file` document (exact), and the AlertmanagerWebCredentials provider serialised the
 * way the engine stores it (`pulumi.runtime.serializeFunction`, loaded back as the dynamic provider
 * host loads it): a 256-bit random password, its bcrypt hash that verifies, a new pair per create,
 * and a diff that keeps them across runs (no replacement unless the user or the cost changes).
 * Does not prove: that Alertmanager 0.25 enforces the file or that Prometheus's alerts get through
 * with it (test/conformance/alerts.test.ts runs both; the Docker tier runs the declared containers).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { compareSync } from "bcryptjs";
import {
    ALERTMANAGER_BCRYPT_COST,
    ALERTMANAGER_WEB_USER,
    alertmanagerWebProvider,
} from "../../components/monitoring/alertmanagerAuth";
import {
    asFile,
    renderAlertmanagerWebConfig,
    renderPrometheusConfig,
    type ScrapeInput,
} from "../../components/monitoring/prometheusConfig";
import { requireTools } from "../helpers/tools";

requireTools("promtool");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-am-auth-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const INPUT: ScrapeInput = {
    vaultTargets: ["vault-0:8200"],
    auditTargets: ["vault-0-mtail:3903"],
    blackboxAddress: "blackbox:9115",
    alertmanagers: ["alertmanager:9093"],
    tlsServerName: "vault.internal",
    caFile: path.join(dir, "ca.pem"),
    tokenFile: path.join(dir, "token"),
    ruleFiles: [],
};

describe("Prometheus's alerting block", () => {
    it("with alertmanagerAuth: basic_auth with the user and the password file, nothing else", () => {
        const doc = renderPrometheusConfig({
            ...INPUT,
            alertmanagerAuth: { username: "bonito", passwordFile: "/etc/prometheus/alertmanager-password" },
        });
        assert.deepEqual(doc.alerting, {
            alertmanagers: [
                {
                    basic_auth: { username: "bonito", password_file: "/etc/prometheus/alertmanager-password" },
                    static_configs: [{ targets: ["alertmanager:9093"] }],
                },
            ],
        });
    });

    it("without it (external): no credentials", () => {
        assert.deepEqual(renderPrometheusConfig(INPUT).alerting, {
            alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }],
        });
    });

    it("promtool 2.42 accepts the block with password_file", () => {
        for (const f of ["ca.pem", "token", "pw"]) fs.writeFileSync(path.join(dir, f), "x", { mode: 0o600 });
        const file = path.join(dir, "prometheus.yml");
        fs.writeFileSync(
            file,
            asFile(
                renderPrometheusConfig({
                    ...INPUT,
                    alertmanagerAuth: { username: "bonito", passwordFile: path.join(dir, "pw") },
                }),
            ),
        );
        const out = execFileSync("promtool", ["check", "config", file], { encoding: "utf8" });
        assert.match(out, /SUCCESS/);
    });
});

describe("Alertmanager's --web.config.file", () => {
    const HASH = "$2b$10$bonitomockalertmanageexoQaf5lDcXE9FFektrNfEtniWydbEFe";

    it("holds one user and the bcrypt hash, exactly", () => {
        assert.deepEqual(renderAlertmanagerWebConfig({ username: "bonito", passwordHash: HASH }), {
            basic_auth_users: { bonito: HASH },
        });
    });

    it("refuses a value that is not a bcrypt hash (a plain password would lock everyone out), without printing it", () => {
        assert.throws(
            () => renderAlertmanagerWebConfig({ username: "bonito", passwordHash: "plain-password-value" }),
            (e: Error) => {
                assert.equal(
                    e.message,
                    "Alertmanager web config: the password hash for bonito is not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters), which is the only form basic_auth_users accepts",
                );
                return true;
            },
        );
    });
});

describe("AlertmanagerWebCredentials, serialised as the engine stores it", () => {
    type P = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "diff">>;
    let provider: P;
    before(async () => {
        const sf = await pulumi.runtime.serializeFunction(() => alertmanagerWebProvider, { allowSecrets: true });
        const requireFromString = createRequire(require.resolve("@pulumi/pulumi/package.json"))(
            "require-from-string",
        ) as (code: string) => { handler(): P };
        provider = requireFromString(sf.text).handler();
    });
    const inputs = { username: ALERTMANAGER_WEB_USER, cost: ALERTMANAGER_BCRYPT_COST };

    it("create: a 256-bit base64url password and a $2b$10$ hash of it that verifies; a second create gives another pair", async () => {
        const a = (await provider.create(inputs)).outs as Record<string, string>;
        const b = (await provider.create(inputs)).outs as Record<string, string>;
        assert.equal(a.username, "bonito");
        assert.match(a.password, /^[A-Za-z0-9_-]{43}$/);
        assert.match(a.passwordHash, /^\$2b\$10\$[./A-Za-z0-9]{53}$/);
        assert.equal(compareSync(a.password, a.passwordHash), true);
        assert.equal(compareSync(b.password, a.passwordHash), false);
        assert.notEqual(a.password, b.password);
        // The web config accepts what create returns.
        assert.doesNotThrow(() => renderAlertmanagerWebConfig({ username: "bonito", passwordHash: a.passwordHash }));
    });

    it("diff: the same inputs change nothing (the password and hash stay; no container is replaced)", async () => {
        const olds = { ...inputs, password: "p", passwordHash: "h" };
        assert.deepEqual(await provider.diff("id", olds, inputs), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    it("diff: another user or cost replaces the pair", async () => {
        const olds = { ...inputs, password: "p", passwordHash: "h" };
        assert.deepEqual(await provider.diff("id", olds, { ...inputs, username: "ops" }), {
            changes: true,
            replaces: ["username"],
            deleteBeforeReplace: false,
        });
        assert.deepEqual(await provider.diff("id", olds, { ...inputs, cost: 12 }), {
            changes: true,
            replaces: ["cost"],
            deleteBeforeReplace: false,
        });
    });
});
