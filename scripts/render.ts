/**
 * `npm run render -- <stack> [key=value …]`: run the program under Pulumi's mock runtime with the
 * committed stack file (no credentials, no network) and write under out/<stack>/:
 *   - <node>.server.json  each node's rendered Vault server configuration
 *   - resources.json      every declared resource: type, name, parent, key inputs (secrets redacted)
 *   - resources.txt       the same, one line per resource
 *   - vault-settings.json the Vault-side settings: KV mount, audit devices, policies, AppRoles, autopilot
 *   - backups.json        the backup bucket, schedule and the snapshot agent's configuration
 *   - outputs.json        the stack outputs as a preview shows them (secrets hidden); a value that
 *                         holds something only the mock runtime makes up (account 123456789012,
 *                         `MOCK-…` certificates, `…-id` resource ids) starts with "[placeholder] "
 * Extra `key=value` arguments override stack config (e.g. `cloud=gcp gcpProject=acme`).
 * A bad stack config fails with the config error and writes nothing.
 */
import { outputState } from "../components/sdkInternals";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    holdsMockPlaceholder,
    isSecretInput,
    setupMocks,
    stackConfig,
    unwrapSecrets,
    valueOf,
    type Recorded,
} from "../test/helpers/mocks";

/**
 * What a reviewer may see of a resource's inputs: every value the program marked secret is
 * replaced by "[secret]", and each server.json upload points at its own file.
 */
export function redact(r: Recorded): Record<string, unknown> {
    const hide = (v: unknown): unknown => {
        if (isSecretInput(v)) {
            const inner = (v as { value: unknown }).value;
            // A secret list still shows its shape: which files go where, which variables are set.
            if (Array.isArray(inner))
                return inner.map((x) =>
                    typeof x === "string" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(x)
                        ? x.replace(/=.*/s, "=[secret]")
                        : hideUpload(x),
                );
            return "[secret]";
        }
        if (Array.isArray(v)) return v.map(hide);
        if (typeof v === "object" && v !== null)
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hide(x)]));
        return v;
    };
    const hideUpload = (u: unknown): unknown => {
        if (typeof u !== "object" || u === null || !("file" in u)) return "[secret]";
        const up = unwrapSecrets(u) as Record<string, unknown>;
        const content = String(up.file).endsWith("/server.json") ? "[see <node>.server.json]" : "[secret]";
        return { ...up, content };
    };
    const out = hide(r.rawInputs) as Record<string, unknown>;
    if (Array.isArray(out.uploads)) out.uploads = out.uploads.map(hideUpload);
    return out;
}

export async function render(stack: string, overrides: Record<string, string>, outRoot: string): Promise<string[]> {
    const config = stackConfig(stack, overrides);
    const run = setupMocks(stack, config);
    const { buildProgram } = await import("../program");
    // The mock runtime: the committed example operator keys are acceptable here, never in a real up.
    const { platform, outputs } = buildProgram(undefined, undefined, { allowExampleKeys: true });
    // Stack outputs as a preview shows them: secrets hidden, provider-computed values unknown.
    const shownOutputs: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(outputs)) shownOutputs[k] = await shown(o);
    await Promise.all(platform.cluster.containers.map((c) => valueOf(c.urn)));
    const configs = await Promise.all(platform.cluster.serverConfigs.map((c) => valueOf(c)));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));

    const dir = path.join(outRoot, stack);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    platform.nodes.forEach((n, i) => {
        const file = path.join(dir, `${n.name}.server.json`);
        fs.writeFileSync(file, configs[i]);
        written.push(file);
    });
    // The Vault-side settings (mount, audit devices, policies, roles, autopilot) as plain data, and
    // the snapshot agent's configuration and the bucket it writes to: neither holds a secret.
    fs.writeFileSync(path.join(dir, "vault-settings.json"), JSON.stringify(platform.settings.plan, null, 2) + "\n");
    const agentConfigText = await shown(platform.snapshots.agentConfig);
    const bucket = { url: await shown(platform.backup.url), retentionDays: platform.backup.retentionDays };
    fs.writeFileSync(
        path.join(dir, "backups.json"),
        JSON.stringify(
            {
                bucket,
                schedule: platform.snapshots.schedule,
                agentConfig:
                    typeof agentConfigText === "string" && agentConfigText.startsWith("{")
                        ? JSON.parse(agentConfigText)
                        : agentConfigText,
            },
            null,
            2,
        ) + "\n",
    );
    const ids = run.resources.map((r) => r.id);
    fs.writeFileSync(
        path.join(dir, "outputs.json"),
        JSON.stringify(markPlaceholders(shownOutputs, ids), null, 2) + "\n",
    );
    written.push(path.join(dir, "vault-settings.json"), path.join(dir, "backups.json"), path.join(dir, "outputs.json"));
    const list = run.resources.map((r) => ({ type: r.type, name: r.name, inputs: redact(r) }));
    fs.writeFileSync(path.join(dir, "resources.json"), JSON.stringify(list, null, 2) + "\n");
    fs.writeFileSync(
        path.join(dir, "resources.txt"),
        run.resources.map((r) => `${r.type.padEnd(56)} ${r.name}`).join("\n") + "\n",
    );
    written.push(path.join(dir, "resources.json"), path.join(dir, "resources.txt"));
    return written;
}

/** The prefix of an output value that holds a mock runtime's stand-in, not what a deployment returns. */
export const PLACEHOLDER = "[placeholder] ";

/**
 * `value` with every string that holds a mock runtime's stand-in (test/helpers/mocks.ts
 * MOCK_PLACEHOLDERS, or one of `resourceIds`) prefixed with {@link PLACEHOLDER}; the shape is kept.
 */
export function markPlaceholders(value: unknown, resourceIds: readonly string[]): unknown {
    if (typeof value === "string") return holdsMockPlaceholder(value, resourceIds) ? `${PLACEHOLDER}${value}` : value;
    if (Array.isArray(value)) return value.map((v) => markPlaceholders(v, resourceIds));
    if (typeof value === "object" && value !== null)
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markPlaceholders(v, resourceIds)]));
    return value;
}

/** An output's value as a preview would show it. */
async function shown(o: unknown): Promise<unknown> {
    if (o === undefined) return null;
    const out = outputState(o as pulumi.Input<unknown>);
    if (await out.isSecret) return "[secret]";
    if (!(await out.isKnown)) return "(known after deploy)";
    return valueOf(o as pulumi.Input<unknown>);
}

let done = false;
if (require.main === module) {
    const [stack, ...rest] = process.argv.slice(2);
    if (!stack || (!["staging", "prod", "local"].includes(stack) && !fs.existsSync(`Pulumi.${stack}.yaml`))) {
        console.error("usage: npm run render -- <staging|prod|local> [key=value …]");
        process.exit(2);
    }
    // Anything that ends the process before the render settles (a promise that never resolves lets
    // Node exit once the event loop drains) must not look like success.
    process.exitCode = 1;
    process.on("exit", (code) => {
        if (code === 1 && !done) console.error("render: the program did not finish (an output never resolved)");
    });
    const overrides = Object.fromEntries(
        rest.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    render(stack, overrides, path.join(__dirname, "..", "out")).then(
        (files) => {
            done = true;
            process.exitCode = 0;
            console.log(`rendered stack ${stack}:`);
            for (const f of files) console.log(`  ${path.relative(process.cwd(), f)}`);
            console.log(
                `values in outputs.json that start with "${PLACEHOLDER.trim()}" are the mock runtime's stand-ins (account 123456789012, MOCK-… certificates, …-id ids), not what a deployment returns`,
            );
        },
        (err: Error) => {
            // The program did finish: with this error, which is the whole story.
            done = true;
            console.error(err.name === "ConfigError" ? err.message : err.stack);
            process.exit(1);
        },
    );
}
