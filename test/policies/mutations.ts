/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures edit nested JSON documents freely */
/**
 * (2) The mutation table: one insecure change per rule, applied to a REAL resource that the
 * committed stack declares under mocks; the pack must report it, under the rule that owns it.
 * Each file runs the rows for its stack's cloud and the cloud-independent ones (docker, vault);
 * a row that cannot apply to the declared resources fails.
 * Stack: prod (the strictest rules); POLICY_MUTATION_STACK=staging runs the same table on staging
 * with the resources judged as prod.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POLICIES } from "../../policies/policies";
import { runPack, type TestResource } from "./harness";
import { declaredResources } from "./program";

const SOURCE = process.env.POLICY_MUTATION_STACK ?? "prod";
const JUDGED_AS = "prod";
const C = "docker:index/container:Container";

type Mutation = (rs: TestResource[]) => boolean;

interface Row {
    policy: string;
    change: string;
    /** The type the change needs; the row is skipped when the stack declares none. */
    needs: string;
    mutate: Mutation;
}

const clone = (rs: TestResource[]): TestResource[] => JSON.parse(JSON.stringify(rs)) as TestResource[];
const isServer = (r: TestResource) =>
    r.type === C &&
    (r.props.labels as { label: string; value: string }[] | undefined)?.some(
        (l) => l.label === "bonito.role" && l.value === "vault-server",
    );
const server = (rs: TestResource[]) => rs.find(isServer)!;
const first = (rs: TestResource[], type: string) => rs.find((r) => r.type === type)!;

/** Edit node 0's uploaded server.json (the rendered config the policies read). */
function editConfig(edit: (c: Record<string, any>) => void): Mutation {
    return (rs) => {
        const up = (server(rs).props.uploads as { file: string; content: string }[]).find(
            (u) => u.file === "/vault/config/server.json",
        )!;
        const cfg = JSON.parse(up.content) as Record<string, any>;
        edit(cfg);
        up.content = JSON.stringify(cfg);
        return true;
    };
}

/** Edit the first statement of the first IAM policy whose document mentions `mentions`. */
function editIam(edit: (stmt: Record<string, any>) => void, mentions = ""): Mutation {
    return (rs) => {
        const p = rs.find(
            (r) =>
                String(r.props.policy ?? "").includes(mentions) &&
                ["aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/policy:Policy"].includes(
                    r.type,
                ),
        )!;
        const doc = JSON.parse(p.props.policy as string) as { Statement: Record<string, any>[] };
        edit(doc.Statement[0]);
        p.props.policy = JSON.stringify(doc);
        return true;
    };
}

const ROWS: Row[] = [
    {
        policy: "vault-container-no-dev-mode",
        change: "node 0 runs `server -dev`",
        needs: C,
        mutate: (rs) => ((server(rs).props.command = ["server", "-dev"]), true),
    },
    {
        policy: "vault-container-image-pinned",
        change: "node 0 image hashicorp/vault:latest",
        needs: C,
        mutate: (rs) => ((server(rs).props.image = "hashicorp/vault:latest"), true),
    },
    {
        policy: "vault-container-ipc-lock",
        change: "IPC_LOCK removed from node 0",
        needs: C,
        mutate: (rs) => {
            const caps = server(rs).props.capabilities as { adds: string[] };
            caps.adds = caps.adds.filter((c) => c !== "IPC_LOCK");
            return true;
        },
    },
    {
        policy: "vault-container-core-dumps-disabled",
        change: "core ulimit unlimited on node 0",
        needs: C,
        mutate: (rs) => {
            for (const u of server(rs).props.ulimits as { name: string; soft: number; hard: number }[])
                if (u.name === "core") Object.assign(u, { soft: -1, hard: -1 });
            return true;
        },
    },
    {
        policy: "vault-listener-tls-required",
        change: "API listener tls_disable: true",
        needs: C,
        mutate: editConfig((c) => (c.listener[0].tcp.tls_disable = true)),
    },
    {
        policy: "vault-listener-tls-min-version",
        change: "API listener tls_min_version tls12 on prod",
        needs: C,
        mutate: editConfig((c) => (c.listener[0].tcp.tls_min_version = "tls12")),
    },
    {
        policy: "vault-listener-mtls-prod",
        change: "client-certificate requirement removed from every listener",
        needs: C,
        mutate: editConfig((c) => {
            for (const l of c.listener) delete l.tcp.tls_require_and_verify_client_cert;
        }),
    },
    {
        policy: "vault-raft-node-count",
        change: "one Vault server removed (2 nodes)",
        needs: C,
        mutate: (rs) => {
            const last = rs.filter(isServer).pop()!;
            rs.splice(rs.indexOf(last), 1);
            return true;
        },
    },
    {
        policy: "vault-volume-data-protected",
        change: "node 0's data volume without protect",
        needs: "docker:index/volume:Volume",
        mutate: (rs) => {
            const name = (server(rs).props.volumes as { volumeName: string; containerPath: string }[]).find(
                (v) => v.containerPath === "/vault/data",
            )!.volumeName;
            rs.find((r) => r.type === "docker:index/volume:Volume" && r.props.name === name)!.protect = false;
            return true;
        },
    },
    {
        policy: "vault-seal-auto-unseal",
        change: "seal replaced by transit on prod",
        needs: C,
        mutate: editConfig((c) => (c.seal = { transit: { address: "https://unsealer:8200", key_name: "k" } })),
    },
    {
        policy: "vault-seal-no-inline-credentials",
        change: "secret_key written into the seal stanza",
        needs: C,
        mutate: editConfig((c) => {
            const [type] = Object.keys(c.seal);
            c.seal[type].secret_key = "wJalrXUtnFEMI/K7MDENG";
            c.seal[type].token = "hvs.inline";
            c.seal[type].client_secret = "inline";
            c.seal[type].credentials = '{"private_key":"x"}';
        }),
    },
    {
        policy: "vault-audit-devices-redundant",
        change: "all audit devices but one removed",
        needs: "vault:index/audit:Audit",
        mutate: (rs) => {
            const audits = rs.filter((r) => r.type === "vault:index/audit:Audit");
            for (const a of audits.slice(1)) rs.splice(rs.indexOf(a), 1);
            return true;
        },
    },
    {
        policy: "vault-audit-no-log-raw",
        change: "log_raw=true on the first audit device",
        needs: "vault:index/audit:Audit",
        mutate: (rs) => (
            (first(rs, "vault:index/audit:Audit").props.options = {
                ...(first(rs, "vault:index/audit:Audit").props.options as object),
                log_raw: "true",
            }),
            true
        ),
    },
    {
        policy: "aws-kms-key-rotation",
        change: "enableKeyRotation false",
        needs: "aws:kms/key:Key",
        mutate: (rs) => ((first(rs, "aws:kms/key:Key").props.enableKeyRotation = false), true),
    },
    {
        policy: "gcp-kms-cryptokey-rotation",
        change: "rotationPeriod 365 days",
        needs: "gcp:kms/cryptoKey:CryptoKey",
        mutate: (rs) => ((first(rs, "gcp:kms/cryptoKey:CryptoKey").props.rotationPeriod = "31536000s"), true),
    },
    {
        policy: "azure-keyvault-purge-protection",
        change: "purge protection off",
        needs: "azure-native:keyvault:Vault",
        mutate: (rs) => (
            ((
                first(rs, "azure-native:keyvault:Vault").props.properties as Record<string, unknown>
            ).enablePurgeProtection = false),
            true
        ),
    },
    {
        policy: "aws-iam-unseal-least-privilege",
        change: "unseal statement also allows kms:ScheduleKeyDeletion",
        needs: "aws:iam/rolePolicy:RolePolicy",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "kms:ScheduleKeyDeletion"]), "kms:DescribeKey"),
    },
    {
        policy: "aws-iam-policy-no-wildcards",
        change: 'unseal statement Resource "*"',
        needs: "aws:iam/rolePolicy:RolePolicy",
        mutate: editIam((s) => (s.Resource = "*"), "kms:DescribeKey"),
    },
    {
        policy: "gcp-kms-iam-unseal-least-privilege",
        change: "key binding role roles/cloudkms.admin",
        needs: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        mutate: (rs) => (
            (first(rs, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").props.role = "roles/cloudkms.admin"),
            true
        ),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "role assignment widened to Owner",
        needs: "azure-native:authorization:RoleAssignment",
        mutate: (rs) => (
            (first(rs, "azure-native:authorization:RoleAssignment").props.roleDefinitionId =
                "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
            true
        ),
    },
    {
        policy: "backup-bucket-versioning",
        change: "bucket versioning Suspended",
        needs: "aws:s3/bucketVersioning:BucketVersioning",
        mutate: (rs) => (
            (first(rs, "aws:s3/bucketVersioning:BucketVersioning").props.versioningConfiguration = {
                status: "Suspended",
            }),
            true
        ),
    },
    {
        policy: "backup-bucket-worm",
        change: "object lock configuration removed",
        needs: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        mutate: (rs) => (
            rs.splice(rs.indexOf(first(rs, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")), 1),
            true
        ),
    },
    {
        policy: "backup-bucket-no-public-access",
        change: "restrictPublicBuckets false",
        needs: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        mutate: (rs) => (
            (first(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").props.restrictPublicBuckets = false),
            true
        ),
    },
    {
        policy: "backup-bucket-tls-only",
        change: "bucket policy removed",
        needs: "aws:s3/bucketPolicy:BucketPolicy",
        mutate: (rs) => (rs.splice(rs.indexOf(first(rs, "aws:s3/bucketPolicy:BucketPolicy")), 1), true),
    },
    {
        policy: "backup-writer-no-delete",
        change: "an IAM statement also allows s3:DeleteObject",
        needs: "aws:iam/rolePolicy:RolePolicy",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "s3:DeleteObject"])),
    },
    {
        policy: "vault-approle-token-ttl",
        change: "token_ttl 24h",
        needs: "vault:appRole/authBackendRole:AuthBackendRole",
        mutate: (rs) => ((first(rs, "vault:appRole/authBackendRole:AuthBackendRole").props.tokenTtl = 86400), true),
    },
    {
        policy: "vault-policy-backend-least-privilege",
        change: "backend policy grants sudo on sys/mounts",
        needs: "vault:index/policy:Policy",
        mutate: (rs) => {
            const p = rs.find(
                (r) => r.type === "vault:index/policy:Policy" && (r.props.name ?? r.name) === "bonito-backend",
            );
            if (!p) return false;
            const doc = JSON.parse(p.props.policy as string) as { path: Record<string, unknown> };
            doc.path["sys/mounts"] = { capabilities: ["read", "sudo"] };
            p.props.policy = JSON.stringify(doc);
            return true;
        },
    },
    {
        policy: "container-no-credentials-on-command-line",
        change: "a Vault token in node 0's healthcheck command",
        needs: C,
        mutate: (rs) => (
            (server(rs).props.healthcheck = {
                tests: ["CMD-SHELL", "VAULT_TOKEN=hvs.CAESIabcdefghijklmnopqrstuvwx vault status"],
            }),
            true
        ),
    },
];

/**
 * The table over the committed stack, with optional config overrides (the other clouds' rows run
 * with `cloud` overridden in mutations-<cloud>.test.ts).
 */
export function describeMutations(overrides: Record<string, string> = {}): void {
    describe(`mutation table on the committed ${SOURCE} stack ${JSON.stringify(overrides)}`, () => {
        let base: TestResource[] = [];
        let baseline: Map<string, string[]> = new Map();
        before(async () => {
            base = await declaredResources(SOURCE, overrides);
            baseline = (await runPack(POLICIES as never, base, JUDGED_AS)).violations;
        });
        it("has one row per validating policy", () => {
            const names = POLICIES.filter((p) => p.enforcementLevel !== "remediate").map((p) => p.name);
            assert.deepEqual(ROWS.map((r) => r.policy).sort(), names.sort());
        });
        // Rows for another cloud's resources run in mutations-<cloud>.test.ts.
        const cloud = overrides.cloud ?? "aws";
        const rows = ROWS.filter((r) => {
            const provider = r.needs.split(":")[0];
            return !["aws", "gcp", "azure-native"].includes(provider) || provider.replace("-native", "") === cloud;
        });
        for (const row of rows) {
            it(`${row.policy}: ${row.change}`, async () => {
                assert.ok(
                    base.some((r) => r.type === row.needs),
                    `the ${SOURCE} stack declares no ${row.needs}`,
                );
                assert.ok(
                    !baseline.has(row.policy),
                    `${row.policy} already fails on the unmutated stack: ${baseline.get(row.policy)?.[0]}`,
                );
                const rs = clone(base);
                assert.ok(row.mutate(rs), "the stack declares no resource this change applies to");
                // The change is to the program's inputs; the provider echoes them into the outputs.
                for (const r of rs) if (r.outputs) r.outputs = { ...r.outputs, ...r.props };
                const { violations } = await runPack(POLICIES as never, rs, JUDGED_AS);
                assert.ok(
                    violations.has(row.policy),
                    `not caught; violations were ${JSON.stringify(Object.fromEntries(violations))}`,
                );
            });
        }
    });
}
