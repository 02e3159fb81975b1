/**
 * Settings area, pure: config defaults and exact validation messages, the rendered policies
 * (default and custom mount), AppRole data, audit devices per engine, autopilot, backendEnv and
 * the rotator script.
 * Proves: the data the components and the real-server tier apply is exactly this. Does not prove:
 * that Vault accepts it or that the policies behave as intended (issue 8's real-server tier).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, sectionValues } from "../../components/config";
import type { CoreConfig, StackConfig } from "../../components/config";
import { adminHost, settingsSection } from "../../components/config/settings";
import { stackConfig } from "../helpers/mocks";
import { renderAuditDevices, renderAuditRotatorScript } from "../../components/settings/audit";
import {
    BACKEND_CA_WRITE_COMMAND,
    backendRole,
    renderBackendEnv,
    renderVaultSettings,
    toDotenv,
} from "../../components/settings/plan";
import {
    policyText,
    renderAdminPolicy,
    renderBackendPolicy,
    renderSnapshotAgentPolicy,
} from "../../components/settings/acl";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };
/** A key Vault can encrypt to: the first committed example key (accepted here as under the mock runtime). */
const PGP = (JSON.parse(stackConfig("prod")["bonito-vault:recoveryPgpKeys"]) as string[])[0];

/** Run only the settings section on top of the local core config (optionally altered). */
function buildSettings(stack: string, raw: Record<string, string>, core: Partial<CoreConfig> = {}) {
    const prior = { ...loadConfig("local", BASE), ...core } as StackConfig;
    const problems: string[] = [];
    // Throws on a value that does not parse; the section's build gets exactly what loadConfig gives it.
    const values = sectionValues(settingsSection.keys, raw);
    const value = settingsSection.build(
        values,
        { stack, prod: stack === "prod", allowExampleKeys: true, issue: (k, m) => problems.push(`${k} ${m}`) },
        prior,
    );
    return { value, problems };
}

function problemsFor(key: string, stack: string, raw: Record<string, string>): string[] {
    try {
        loadConfig(stack, { ...BASE, ...raw }, new Set(), { allowExampleKeys: true });
    } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems.filter((p) => p.startsWith(`bonito-vault:${key} `));
    }
    return [];
}

describe("settings config", () => {
    it("applies the local defaults", () => {
        const c = loadConfig("local", BASE);
        assert.equal(c.adminAddr, "https://127.0.0.1:8200");
        assert.equal(c.adminTlsServerName, "vault");
        assert.equal(c.backendAddr, "https://vault:8200");
        assert.equal(c.kvMount, "bonito");
        assert.deepEqual(c.recovery, { shares: 1, threshold: 1, pgpKeys: [] });
        assert.deepEqual(c.audit, {
            second: "syslog",
            socketAddress: undefined,
            socketType: "tcp",
            retentionDays: 14,
            rotateSizeMb: 100,
            rotateMaxAgeHours: 24,
        });
        assert.deepEqual(c.approle, {
            secretIdTtl: "0",
            secretIdNumUses: 0,
            secretIdBoundCidrs: [],
            tokenBoundCidrs: [],
            wrappingTtl: undefined,
        });
        assert.deepEqual(c.autopilot, {
            cleanupDeadServers: true,
            lastContactThreshold: "10s",
            deadServerLastContactThreshold: "24h",
            serverStabilizationTime: "10s",
            minQuorum: 3,
        });
    });

    it("uses 3/2 recovery shares on staging and 5/3 with 90 days of audit on prod", () => {
        assert.deepEqual(loadConfig("staging", BASE).recovery, { shares: 3, threshold: 2, pgpKeys: [] });
        // prod through the settings section alone, so other areas' prod rules do not blur the assertion.
        const { value, problems } = buildSettings(
            "prod",
            {
                recoveryPgpKeys: JSON.stringify([PGP, PGP, PGP, PGP, PGP]),
            },
            {
                publishAddress: "0.0.0.0",
                dockerHosts: ["ssh://a@h0.example", "ssh://a@h1.example", "ssh://a@h2.example"],
                multiHost: true,
            },
        );
        assert.deepEqual(problems, []);
        assert.deepEqual([value.recovery.shares, value.recovery.threshold], [5, 3]);
        assert.equal(value.audit.retentionDays, 90);
        assert.equal(value.adminAddr, "https://h0.example:8200");
    });

    it("finds the admin host from the publish address, the first Docker host, or the first node address", () => {
        const base = { publishAddress: "0.0.0.0", dockerHosts: [undefined], nodeAddresses: ["n0"], multiHost: false };
        assert.equal(adminHost({ ...base, publishAddress: "10.0.0.5" }), "10.0.0.5");
        assert.equal(
            adminHost({ ...base, dockerHosts: ["ssh://deploy@vault-staging.example:22"] }),
            "vault-staging.example",
        );
        assert.equal(adminHost({ ...base, dockerHosts: ["tcp://10.1.1.1:2376"] }), "10.1.1.1");
        assert.equal(
            adminHost({ ...base, dockerHosts: ["unix:///var/run/docker.sock", "unix:///x"], multiHost: true }),
            "n0",
        );
        assert.equal(adminHost(base), "127.0.0.1");
    });

    it("rejects prod without recovery PGP keys with the exact message", () => {
        assert.deepEqual(problemsFor("recoveryPgpKeys", "prod", {}), [
            "bonito-vault:recoveryPgpKeys is required on prod: list 5 operators' PGP public keys (base64 of gpg --export <id>), one per recovery share, so the shares in state are encrypted",
        ]);
    });

    it("rejects bad values with messages naming key, value and what is allowed", () => {
        assert.deepEqual(
            problemsFor("recoveryPgpKeys", "local", { "bonito-vault:recoveryPgpKeys": JSON.stringify([PGP, PGP]) }),
            [
                `bonito-vault:recoveryPgpKeys lists 2 keys but recoveryShares is 1 (its default on stack local); set recoveryShares: 2 and a recoveryThreshold (at least 2), or give exactly one key per share (got [${PGP.slice(0, 47)}…${PGP.slice(-15)}] (${2 * PGP.length + 4} characters))`,
            ],
        );
        assert.deepEqual(
            problemsFor("recoveryPgpKeys", "local", {
                "bonito-vault:recoveryPgpKeys": '["-----BEGIN PGP PUBLIC KEY BLOCK-----"]',
            }),
            [
                'bonito-vault:recoveryPgpKeys every item must be a base64-encoded binary PGP public key (gpg --export <id> | base64 -w0); not "-----BEGIN PGP PUBLIC KEY BLOCK-----" (got ["-----BEGIN PGP PUBLIC KEY BLOCK-----"])',
            ],
        );
        assert.deepEqual(
            problemsFor("recoveryThreshold", "local", {
                "bonito-vault:recoveryShares": "3",
                "bonito-vault:recoveryThreshold": "4",
            }),
            ['bonito-vault:recoveryThreshold 4 exceeds recoveryShares (3); use a number from 1 to 3 (got "4")'],
        );
        assert.deepEqual(
            problemsFor("recoveryThreshold", "local", {
                "bonito-vault:recoveryShares": "3",
                "bonito-vault:recoveryThreshold": "1",
            }),
            [
                'bonito-vault:recoveryThreshold must be at least 2 when recoveryShares is 3 (Vault\'s Shamir split needs 2 or more) (got "1")',
            ],
        );
        assert.deepEqual(problemsFor("kvMount", "local", { "bonito-vault:kvMount": "sys" }), [
            'bonito-vault:kvMount must not be one of sys, auth, identity, cubbyhole, secret, approle, pulumi-admin, audit (reserved by Vault or this program) (got "sys")',
        ]);
        assert.deepEqual(problemsFor("kvMount", "local", { "bonito-vault:kvMount": "a/b" }), [
            'bonito-vault:kvMount must be a mount path of a-z, 0-9, _ and - (no slashes) (got "a/b")',
        ]);
        assert.deepEqual(problemsFor("auditSocketAddress", "local", { "bonito-vault:auditSecondDevice": "socket" }), [
            "bonito-vault:auditSocketAddress is required when auditSecondDevice is socket: the log shipper's host:port",
        ]);
        assert.deepEqual(
            problemsFor("auditSocketAddress", "local", { "bonito-vault:auditSocketAddress": "shipper:9000" }),
            [
                'bonito-vault:auditSocketAddress is only used when auditSecondDevice is socket (auditSecondDevice is syslog) (got "shipper:9000")',
            ],
        );
        assert.deepEqual(problemsFor("adminAddr", "local", { "bonito-vault:adminAddr": "http://127.0.0.1:8200" }), [
            'bonito-vault:adminAddr must be an https URL: Vault terminates TLS (tlsMode is not upstream-proxy) (got "http://127.0.0.1:8200")',
        ]);
        assert.deepEqual(
            problemsFor("approleSecretIdBoundCidrs", "local", {
                "bonito-vault:approleSecretIdBoundCidrs": '["10.0.0.0"]',
            }),
            [
                'bonito-vault:approleSecretIdBoundCidrs every item must be an IPv4 CIDR such as 10.0.0.0/8; not "10.0.0.0" (got [10.0.0.0])',
            ],
        );
        assert.deepEqual(problemsFor("approleSecretIdTtl", "local", { "bonito-vault:approleSecretIdTtl": "30d" }), [
            'bonito-vault:approleSecretIdTtl must be 0 (never expires) or a duration such as 720h (got "30d")',
        ]);
        assert.deepEqual(
            problemsFor("autopilotCleanupDeadServers", "local", {
                "bonito-vault:nodes": "1",
                "bonito-vault:autopilotCleanupDeadServers": "true",
            }),
            [
                'bonito-vault:autopilotCleanupDeadServers needs at least 3 nodes (nodes is 1): Vault requires min_quorum of 3 or more for dead-server cleanup (got "true")',
            ],
        );
        assert.deepEqual(
            problemsFor("autopilotDeadServerLastContactThreshold", "local", {
                "bonito-vault:autopilotDeadServerLastContactThreshold": "30s",
            }),
            [
                'bonito-vault:autopilotDeadServerLastContactThreshold must be at least 1m (Vault\'s lower bound) (got "30s")',
            ],
        );
    });

    it("turns dead-server cleanup off and leaves min_quorum unset for one node", () => {
        const c = loadConfig("local", { ...BASE, "bonito-vault:nodes": "1" });
        assert.equal(c.autopilot.cleanupDeadServers, false);
        assert.equal(c.autopilot.minQuorum, undefined);
        assert.deepEqual(renderVaultSettings(c).autopilot, {
            cleanup_dead_servers: false,
            last_contact_threshold: "10s",
            dead_server_last_contact_threshold: "24h",
            server_stabilization_time: "10s",
            max_trailing_logs: 1000,
        });
    });
});

describe("policies", () => {
    it("renders the backend policy for the default mount exactly", () => {
        assert.equal(
            policyText(renderBackendPolicy("bonito")),
            JSON.stringify(
                {
                    path: {
                        "bonito/data/*": { capabilities: ["create", "read", "update"] },
                        "bonito/metadata/*": { capabilities: ["read", "list", "delete"] },
                    },
                },
                null,
                2,
            ),
        );
    });

    it("renders the backend policy for a custom mount, touching nothing else", () => {
        assert.deepEqual(renderBackendPolicy("team-kv"), {
            path: {
                "team-kv/data/*": { capabilities: ["create", "read", "update"] },
                "team-kv/metadata/*": { capabilities: ["read", "list", "delete"] },
            },
        });
        const text = policyText(renderBackendPolicy("team-kv"));
        for (const banned of ["sudo", "sys/", "bonito"]) assert.ok(!text.includes(banned), banned);
    });

    it("gives the snapshot agent read on sys/storage/raft/snapshot only", () => {
        assert.deepEqual(renderSnapshotAgentPolicy(), {
            path: { "sys/storage/raft/snapshot": { capabilities: ["read"] } },
        });
    });

    it("renders the admin policy for vault: enumerated paths only, never its own policy or mount", () => {
        const doc = renderAdminPolicy({
            kvMount: "bonito",
            apiAuditDevices: [{ path: "file" }, { path: "syslog" }],
            autopilot: true,
        });
        const role = (r: string) => ({
            [`auth/approle/role/${r}`]: { capabilities: ["create", "read", "update", "delete"] },
            [`auth/approle/role/${r}/role-id`]: { capabilities: ["read"] },
            [`auth/approle/role/${r}/secret-id`]: { capabilities: ["update"] },
            [`auth/approle/role/${r}/secret-id/lookup`]: { capabilities: ["update"] },
            [`auth/approle/role/${r}/secret-id/destroy`]: { capabilities: ["update"] },
            [`auth/approle/role/${r}/secret-id-accessor/lookup`]: { capabilities: ["update"] },
            [`auth/approle/role/${r}/secret-id-accessor/destroy`]: { capabilities: ["update"] },
        });
        assert.deepEqual(doc, {
            path: {
                "sys/audit": { capabilities: ["read", "sudo"] },
                "sys/audit/file": { capabilities: ["create", "update", "delete", "sudo"] },
                "sys/audit/syslog": { capabilities: ["create", "update", "delete", "sudo"] },
                "sys/mounts": { capabilities: ["read"] },
                "sys/mounts/bonito": { capabilities: ["create", "read", "update", "delete"] },
                "sys/mounts/bonito/tune": { capabilities: ["read", "update"] },
                "sys/auth": { capabilities: ["read"] },
                "sys/auth/approle": { capabilities: ["create", "read", "update", "delete", "sudo"] },
                "sys/auth/approle/tune": { capabilities: ["read", "update", "sudo"] },
                "sys/mounts/auth/approle/tune": { capabilities: ["update"] },
                "sys/policies/acl/bonito-backend": { capabilities: ["create", "read", "update", "delete"] },
                "sys/policies/acl/snapshot-agent": { capabilities: ["create", "read", "update", "delete"] },
                // The migration identity (migrationWindow), granted whether or not the window is open.
                "sys/policies/acl/bonito-migration": { capabilities: ["create", "read", "update", "delete"] },
                ...role("bonito-backend"),
                ...role("snapshot-agent"),
                ...role("bonito-migration"),
                "sys/storage/raft/autopilot/configuration": { capabilities: ["read", "update"] },
                // The rolling identity (components/rolling.ts): Pulumi writes its generated role ID and secret ID.
                "sys/policies/acl/bonito-rolling": { capabilities: ["create", "read", "update", "delete"] },
                ...role("bonito-rolling"),
                "auth/approle/role/bonito-rolling/role-id": { capabilities: ["read", "update"] },
                "auth/approle/role/bonito-rolling/custom-secret-id": { capabilities: ["update"] },
                // The metrics reader: its policy and the AppRole role its Vault Agent logs in with.
                "sys/policies/acl/bonito-metrics": { capabilities: ["create", "read", "update", "delete"] },
                ...role("bonito-metrics"),
                // Retiring a pre-agent stack's periodic token role and token (deleted, revoked by naming it),
                // never creating or renewing one.
                "auth/token/roles/bonito-metrics": { capabilities: ["read", "delete"] },
                "auth/token/revoke": { capabilities: ["update"] },
            },
        });
        for (const p of Object.keys(doc.path)) {
            assert.ok(!p.includes("*"), p);
            assert.ok(!p.includes("pulumi-admin"), p);
        }
    });

    it("leaves audit and autopilot out of the admin policy for OpenBao file storage", () => {
        const c = loadConfig("local", {
            ...BASE,
            "bonito-vault:image": "openbao/openbao:2.4.1",
            "bonito-vault:nodes": "1",
            "bonito-vault:storage": "file",
        });
        const plan = renderVaultSettings(c);
        assert.equal(plan.auditViaApi, false);
        assert.equal(plan.auditDevices.length, 2);
        assert.equal(plan.autopilot, undefined);
        const paths = Object.keys(plan.admin.policy.path);
        assert.ok(!paths.some((p) => p.startsWith("sys/audit") || p.startsWith("sys/storage")), paths.join());
    });
});

describe("AppRole data", () => {
    it("renders the backend role from the seed, with secret ID limits from config", () => {
        const c = loadConfig("local", {
            ...BASE,
            "bonito-vault:approleSecretIdTtl": "720h",
            "bonito-vault:approleSecretIdNumUses": "10",
            "bonito-vault:approleSecretIdBoundCidrs": '["10.0.0.0/8"]',
            "bonito-vault:approleTokenBoundCidrs": '["10.1.0.0/16"]',
            "bonito-vault:monitoringTokenBoundCidrs": '["10.2.0.0/24"]',
        });
        assert.deepEqual(backendRole(c), {
            mount: "approle",
            name: "bonito-backend",
            token_policies: ["bonito-backend"],
            token_ttl: 3600,
            token_max_ttl: 14400,
            token_type: "service",
            token_num_uses: 0,
            token_bound_cidrs: ["10.1.0.0/16"],
            bind_secret_id: true,
            secret_id_ttl: 2592000,
            secret_id_num_uses: 10,
            secret_id_bound_cidrs: ["10.0.0.0/8"],
        });
    });

    it("gives Pulumi's admin role 2-hour tokens on its own mount: the provider logs in once per run and never renews", () => {
        const plan = renderVaultSettings(loadConfig("local", BASE));
        assert.equal(plan.admin.mount, "pulumi-admin");
        // A 15-minute token (the old value) expired half-way through a run that pulls images and
        // replaces three nodes before it manages Vault resources: 403s after the cluster changed.
        assert.deepEqual(
            [plan.admin.role.token_policies, plan.admin.role.token_ttl, plan.admin.role.token_max_ttl],
            [["pulumi-admin"], 7200, 7200],
        );
        assert.equal(plan.roles.find((r) => r.name === "snapshot-agent")?.token_ttl, 900);
        assert.deepEqual(
            plan.roles.map((r) => [r.mount, r.name]),
            [
                ["approle", "bonito-backend"],
                ["approle", "snapshot-agent"],
                ["approle", "bonito-rolling"],
            ],
        );
    });
});

describe("audit devices", () => {
    it("renders file + syslog by default, HMAC on everywhere", () => {
        const devices = renderAuditDevices(loadConfig("local", BASE));
        assert.deepEqual(
            devices.map((d) => [d.type, d.path, d.options.log_raw, d.options.hmac_accessor]),
            [
                ["file", "file", "false", "true"],
                ["syslog", "syslog", "false", "true"],
            ],
        );
        assert.equal(devices[0].options.file_path, "/vault/audit/audit.log");
        assert.deepEqual([devices[1].options.tag, devices[1].options.facility], ["vault", "AUTH"]);
    });

    it("renders file + socket to the configured shipper", () => {
        const c = loadConfig("local", {
            ...BASE,
            "bonito-vault:auditSecondDevice": "socket",
            "bonito-vault:auditSocketAddress": "shipper:9000",
        });
        assert.deepEqual(renderAuditDevices(c)[1], {
            type: "socket",
            path: "socket",
            description: "Second device: the log shipper.",
            options: {
                address: "shipper:9000",
                socket_type: "tcp",
                write_timeout: "2s",
                log_raw: "false",
                hmac_accessor: "true",
                format: "json",
            },
        });
    });

    it("renders file + a second file on the audit volume for hosts without syslog", () => {
        const c = loadConfig("local", { ...BASE, "bonito-vault:auditSecondDevice": "file" });
        assert.deepEqual(renderAuditDevices(c), [
            renderAuditDevices(loadConfig("local", BASE))[0],
            {
                type: "file",
                path: "file-mirror",
                description:
                    "Second device: a second file on the audit volume, for Docker hosts without syslog (rotated with the first).",
                options: {
                    file_path: "/vault/audit/audit-mirror.log",
                    mode: "0600",
                    log_raw: "false",
                    hmac_accessor: "true",
                    format: "json",
                },
            },
        ]);
    });

    it("refuses an unknown second audit device, naming the allowed values", () => {
        assert.throws(
            () => loadConfig("local", { ...BASE, "bonito-vault:auditSecondDevice": "journald" }),
            (e: Error) =>
                e.message.includes(
                    'bonito-vault:auditSecondDevice must be one of syslog, socket, file (got "journald")',
                ),
        );
    });

    it("rotates the second file in the same step as the first (one SIGHUP), and expires both", () => {
        const script = renderAuditRotatorScript({
            rotateSizeMb: 100,
            rotateMaxAgeHours: 24,
            retentionDays: 14,
            second: "file",
        });
        const lines = script.split("\n");
        assert.equal(lines[3], 'MIRROR="$AUDIT_DIR/audit-mirror.log"');
        const mv = lines.indexOf('    if mv "$LOG" "$dest"; then');
        assert.deepEqual(lines.slice(mv - 1, mv + 9), [
            '    mdest="$MIRROR.${dest##*.}"',
            '    if mv "$LOG" "$dest"; then',
            '      [ -f "$MIRROR" ] && mv "$MIRROR" "$mdest"',
            "      pid=''; for p in $(pidof vault bao 2>/dev/null); do [ \"$(cut -d' ' -f4 /proc/$p/stat)\" = 1 ] && pid=$p; done",
            '      kill -HUP "${pid:-1}" || echo "audit-rotator: SIGHUP failed" >&2',
            "      sleep 5",
            '      [ -f "$mdest" ] && compress "$mdest"',
            '      if compress "$dest"; then echo "audit-rotator: rotated to $dest.gz"; else echo "audit-rotator: compressing $dest failed; retried next pass" >&2; fi',
            "    fi",
            "    last=$now",
        ]);
        assert.ok(
            lines.includes(
                "  find \"$AUDIT_DIR\" -maxdepth 1 -type f \\( -name 'audit.log.*' -o -name 'audit-mirror.log.*' \\) -mtime +$((KEEP_DAYS - 1)) -exec rm -f {} +",
            ),
        );
        // Without the mirror the script is the single-file one (pinned exactly below).
        assert.ok(
            !renderAuditRotatorScript({ rotateSizeMb: 100, rotateMaxAgeHours: 24, retentionDays: 14 }).includes(
                "MIRROR",
            ),
        );
    });

    it("never renders log_raw true, for either engine", () => {
        for (const image of ["hashicorp/vault:1.21.1", "openbao/openbao:2.4.1"])
            for (const d of renderVaultSettings(loadConfig("local", { ...BASE, "bonito-vault:image": image }))
                .auditDevices)
                assert.equal(d.options.log_raw, "false");
    });

    // The whole script, so any change to rotation, signalling or retention shows here. Common to both forms:
    const head = (ship: boolean) => [
        "set -u",
        'AUDIT_DIR="${BONITO_AUDIT_DIR:-/vault/audit}"',
        'LOG="$AUDIT_DIR/audit.log"',
        ...(ship ? ['SHIPPED="$AUDIT_DIR/shipped"'] : []),
        "MAX_BYTES=104857600",
        `MAX_AGE=${ship ? 150 : 86400}`,
        "KEEP_DAYS=14",
        `INTERVAL=${ship ? 30 : 60}`,
        "# F -> F.gz through F.gz.tmp; F goes last. Already compressed (a crash after the rename): F only goes.",
        "compress() {",
        ship
            ? '  if [ -e "$1.gz" ] || [ -e "$SHIPPED/${1##*/}.gz" ]; then rm -f "$1"; return 0; fi'
            : '  if [ -e "$1.gz" ]; then rm -f "$1"; return 0; fi',
        '  gzip -c "$1" > "$1.gz.tmp" && mv "$1.gz.tmp" "$1.gz" && rm -f "$1"',
        "}",
        ...(ship ? ['mkdir -p "$SHIPPED"'] : []),
        "last=$(date +%s)",
        "while true; do",
        "  now=$(date +%s)",
        "  # Rotated files left uncompressed by a crash, once nothing has written to them for a minute.",
        "  for f in $(find \"$AUDIT_DIR\" -maxdepth 1 -type f -name 'audit.log.*' ! -name '*.gz' ! -name '*.gz.tmp' -mmin +1); do compress \"$f\"; done",
        "  size=0",
        '  [ -f "$LOG" ] && size=$(stat -c %s "$LOG")',
        '  if [ "$size" -ge "$MAX_BYTES" ] || { [ "$size" -gt 0 ] && [ $((now - last)) -ge "$MAX_AGE" ]; }; then',
        '    dest="$LOG.$(date -u +%Y%m%dT%H%M%SZ)"',
        '    if mv "$LOG" "$dest"; then',
        "      pid=''; for p in $(pidof vault bao 2>/dev/null); do [ \"$(cut -d' ' -f4 /proc/$p/stat)\" = 1 ] && pid=$p; done",
        '      kill -HUP "${pid:-1}" || echo "audit-rotator: SIGHUP failed" >&2',
        "      sleep 5",
        '      if compress "$dest"; then echo "audit-rotator: rotated to $dest.gz"; else echo "audit-rotator: compressing $dest failed; retried next pass" >&2; fi',
        "    fi",
        "    last=$now",
        "  fi",
    ];
    const tail = ['  sleep "$INTERVAL"', "done", ""];

    it("renders the rotator loop with the configured size, age and retention, exactly (no shipping)", () => {
        assert.equal(
            renderAuditRotatorScript({ rotateSizeMb: 100, rotateMaxAgeHours: 24, retentionDays: 14 }),
            [
                ...head(false),
                "  find \"$AUDIT_DIR\" -maxdepth 1 -type f -name 'audit.log.*' -mtime +$((KEEP_DAYS - 1)) -exec rm -f {} +",
                ...tail,
            ].join("\n"),
        );
    });

    it("with shipping, rotates at the shipping pace and deletes only from shipped/ (confirmed uploads), exactly", () => {
        assert.equal(
            renderAuditRotatorScript(
                { rotateSizeMb: 100, rotateMaxAgeHours: 24, retentionDays: 14 },
                { rotateSeconds: 150, checkSeconds: 30 },
            ),
            [
                ...head(true),
                "  find \"$SHIPPED\" -maxdepth 1 -type f -name 'audit.log.*' -mtime +$((KEEP_DAYS - 1)) -exec rm -f {} +",
                ...tail,
            ].join("\n"),
        );
    });
});

describe("backendEnv", () => {
    const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const base = {
        addr: "https://vault:8200",
        roleId: "r",
        secret: "s",
        caCert: PEM,
        caCertPath: "/etc/bonito/vault-ca.pem",
        mount: "bonito",
    };

    it("carries the seed's variables, the CA and the mount; the wrapped form names the wrapping token", () => {
        assert.deepEqual(renderBackendEnv({ ...base, wrapped: false }), {
            VAULT_ADDR: "https://vault:8200",
            VAULT_ROLE_ID: "r",
            VAULT_SECRET_ID: "s",
            VAULT_CACERT: "/etc/bonito/vault-ca.pem",
            VAULT_CACERT_BYTES: PEM,
            VAULT_MOUNT: "bonito",
        });
        assert.deepEqual(Object.keys(renderBackendEnv({ ...base, wrapped: true })), [
            "VAULT_ADDR",
            "VAULT_ROLE_ID",
            "VAULT_WRAPPED_SECRET_ID",
            "VAULT_CACERT",
            "VAULT_CACERT_BYTES",
            "VAULT_MOUNT",
        ]);
        assert.equal(toDotenv({ A: "x", B: "l1\nl2" }), 'A="x"\nB="l1\\nl2"');
    });

    it("each variable means what Vault's clients read: VAULT_CACERT a file path, the PEM only in VAULT_CACERT_BYTES", () => {
        const cfg = loadConfig("staging", {
            "bonito-vault:cloud": "aws",
            "bonito-vault:image": "hashicorp/vault:1.21.1",
            "bonito-vault:entryPoint": "none",
        });
        const env = renderBackendEnv({ ...base, caCertPath: cfg.backendCaCertPath, wrapped: false });
        // The Vault CLI, the Go API client (VAULT_CACERT → rootcerts CAFile), hvac and httpx's
        // verify=<path> all open VAULT_CACERT as a file.
        assert.equal(env.VAULT_CACERT, "/etc/bonito/vault-ca.pem");
        assert.ok(path.isAbsolute(env.VAULT_CACERT) && !env.VAULT_CACERT.includes("\n"));
        assert.equal(env.VAULT_CACERT_BYTES, PEM);
        for (const [k, v] of Object.entries(env))
            if (k !== "VAULT_CACERT_BYTES") assert.doesNotMatch(v, /BEGIN CERTIFICATE/, k);
        const custom = loadConfig("staging", {
            "bonito-vault:cloud": "aws",
            "bonito-vault:image": "hashicorp/vault:1.21.1",
            "bonito-vault:backendCaCertPath": "/app/certs/vault-ca.pem",
            "bonito-vault:entryPoint": "none",
        });
        assert.equal(custom.backendCaCertPath, "/app/certs/vault-ca.pem");
    });

    it("the start command in docs/vault-settings.md turns the bundle into the file VAULT_CACERT names", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "vault-settings.md"), "utf8");
        assert.ok(doc.includes(BACKEND_CA_WRITE_COMMAND), "docs/vault-settings.md shows the command");
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "backend-ca-"));
        const env = renderBackendEnv({
            ...base,
            caCertPath: path.join(root, "etc", "bonito", "vault-ca.pem"),
            wrapped: false,
        });
        execFileSync("sh", ["-c", BACKEND_CA_WRITE_COMMAND], { env: { PATH: process.env.PATH, ...env } });
        assert.equal(fs.readFileSync(env.VAULT_CACERT, "utf8"), PEM);
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("no CA variables when TLS terminates at a trusted proxy", () => {
        const env = renderBackendEnv({ ...base, caCert: "", wrapped: false });
        assert.deepEqual(Object.keys(env), ["VAULT_ADDR", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_MOUNT"]);
    });
});
