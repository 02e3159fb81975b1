/**
 * Every policy of the pack: one compliant case (no violation) and one violating case (caught, with
 * a message that says how to fix it). Policy modules are imported directly: importing the pack's
 * index.ts would start the policy server.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POLICIES } from "../../policies/policies";
import type { ResourceValidationPolicy, StackValidationPolicy } from "../../policies/lib/types";
import {
    isStackPolicy,
    remediate,
    secret,
    UNKNOWN,
    validateResource,
    validateStack,
    type TestResource,
} from "./harness";
import * as f from "./fixtures";

type P = ResourceValidationPolicy | StackValidationPolicy;

interface Case {
    /** Resources the policy sees (one resource for resource policies: each is validated). */
    ok: TestResource[];
    bad: TestResource[];
    /** The violation message must match. */
    expect: RegExp;
    stack?: string;
}

const kmsAllow = {
    Effect: "Allow",
    Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
    Resource: f.AWS_KEY_ARN,
};
/** The seal names alias/bonito; the alias points at the unseal key. */
const unsealKey: TestResource[] = [
    f.container(),
    { type: "aws:kms/alias:Alias", name: "alias", props: { name: "alias/bonito", targetKeyId: "key-1" } },
    { type: "aws:kms/key:Key", name: "key", props: { keyId: "key-1", arn: f.AWS_KEY_ARN, enableKeyRotation: true } },
];
/** A different key (SSE-KMS for the backup bucket) may be used for more than unsealing. */
const otherKey = {
    Effect: "Allow",
    Action: ["kms:GenerateDataKey", "kms:Decrypt"],
    Resource: "arn:aws:kms:us-east-1:123456789012:key/other",
};
const writer = { Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::bonito-snapshots/vault/*" };

const CASES: Record<string, Case> = {
    "vault-container-no-dev-mode": {
        ok: [f.container()],
        bad: [f.container("vault-0", (p) => (p.command = ["server", "-dev", "-dev-root-token-id=root"]))],
        expect: /dev mode/,
    },
    "vault-container-image-pinned": {
        ok: [
            f.container("vault-0", (p) => (p.image = "hashicorp/vault:1.21.1")),
            { type: "docker:index/remoteImage:RemoteImage", name: "img", props: { name: "hashicorp/vault:1.21.1" } },
        ],
        bad: [f.container("vault-0", (p) => (p.image = "hashicorp/vault:latest"))],
        expect: /not pinned/,
    },
    "vault-container-ipc-lock": {
        ok: [f.container()],
        bad: [f.container("vault-0", (p) => (p.capabilities = { adds: ["SETUID"], drops: ["ALL"] }))],
        expect: /IPC_LOCK/,
    },
    "vault-container-core-dumps-disabled": {
        ok: [f.container()],
        bad: [f.container("vault-0", (p) => (p.ulimits = [{ name: "core", soft: -1, hard: -1 }]))],
        expect: /Core dumps are enabled/,
    },
    "vault-listener-tls-required": {
        ok: [
            f.container(),
            f.container(
                "vault-1",
                (p) => p.labels.push({ label: "bonito.tls-mode", value: "upstream-proxy" }),
                f.serverConfig((c) => (c.listener = [{ tcp: { address: "0.0.0.0:8200", tls_disable: true } }])),
            ),
        ],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => (c.listener[0].tcp = { address: "0.0.0.0:8200", tls_disable: "true" })),
            ),
        ],
        expect: /tls_disable without the upstream-TLS opt-in/,
    },
    "vault-listener-tls-min-version": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => (c.listener[0].tcp.tls_min_version = "tls12")),
            ),
        ],
        expect: /prod requires tls13/,
        stack: "prod",
    },
    "vault-listener-mtls-prod": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => c.listener.pop()),
            ),
        ],
        expect: /no listener requires client certificates/,
        stack: "prod",
    },
    "vault-raft-node-count": {
        ok: f.cluster(3),
        bad: f.cluster(2),
        expect: /even number/,
    },
    "vault-volume-data-protected": {
        ok: f.cluster(3),
        bad: [
            ...f.cluster(3).filter((r) => r.name !== "bonito-vault-staging-vault-1-data"),
            f.volume("bonito-vault-staging-vault-1-data", false),
        ],
        expect: /is not protected/,
    },
    "vault-seal-auto-unseal": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => (c.seal = { transit: { address: "https://unsealer:8200", key_name: "k" } })),
            ),
        ],
        expect: /prod needs a cloud KMS seal/,
        stack: "prod",
    },
    "vault-seal-no-inline-credentials": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => (c.seal.awskms.secret_key = "wJalrXUtnFEMI")),
            ),
        ],
        expect: /carries secret_key/,
    },
    "vault-audit-devices-redundant": {
        ok: [
            ...f.cluster(1),
            f.audit("file", "file", { file_path: "/vault/audit/audit.log" }),
            f.audit("syslog", "syslog", { tag: "vault" }),
        ],
        bad: [...f.cluster(1), f.audit("file", "file", { file_path: "/vault/audit/audit.log" })],
        expect: /declare at least two/,
    },
    "vault-audit-no-log-raw": {
        ok: [f.audit("file", "file", { file_path: "/vault/audit/audit.log" })],
        bad: [f.audit("file", "file", { file_path: "/vault/audit/audit.log", log_raw: "true" })],
        expect: /log_raw/,
    },
    "aws-kms-key-rotation": {
        ok: [{ type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true, deletionWindowInDays: 30 } }],
        bad: [{ type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true, deletionWindowInDays: 7 } }],
        expect: /deletion window is 7 days/,
    },
    "gcp-kms-cryptokey-rotation": {
        ok: [{ type: "gcp:kms/cryptoKey:CryptoKey", name: "k", props: { keyRing: "r", rotationPeriod: "7776000s" } }],
        bad: [{ type: "gcp:kms/cryptoKey:CryptoKey", name: "k", props: { keyRing: "r", rotationPeriod: "31536000s" } }],
        expect: /at most 7776000s/,
    },
    "azure-keyvault-purge-protection": {
        ok: [
            {
                type: "azure-native:keyvault:Vault",
                name: "kv",
                props: { properties: { enablePurgeProtection: true, softDeleteRetentionInDays: 90 } },
            },
        ],
        bad: [
            {
                type: "azure-native:keyvault:Vault",
                name: "kv",
                props: { properties: { enablePurgeProtection: false } },
            },
        ],
        expect: /purge protection/,
    },
    "aws-iam-unseal-least-privilege": {
        ok: [
            ...unsealKey,
            f.iamPolicy("aws:iam/rolePolicy:RolePolicy", [kmsAllow]),
            f.iamPolicy("aws:iam/userPolicy:UserPolicy", [otherKey]),
        ],
        bad: [
            ...unsealKey,
            f.iamPolicy("aws:iam/rolePolicy:RolePolicy", [
                { ...kmsAllow, Action: [...kmsAllow.Action, "kms:ScheduleKeyDeletion"] },
            ]),
        ],
        expect: /kms:ScheduleKeyDeletion/,
    },
    "aws-iam-policy-no-wildcards": {
        ok: [f.iamPolicy("aws:iam/policy:Policy", [kmsAllow, writer])],
        bad: [f.iamPolicy("aws:iam/policy:Policy", [{ ...kmsAllow, Resource: "*" }])],
        expect: /allows resource "\*"/,
    },
    "gcp-kms-iam-unseal-least-privilege": {
        ok: [
            {
                type: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
                name: "m",
                props: {
                    cryptoKeyId: "k",
                    role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                    member: "serviceAccount:vault@p.iam.gserviceaccount.com",
                },
            },
        ],
        bad: [
            {
                type: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
                name: "m",
                props: {
                    cryptoKeyId: "k",
                    role: "roles/cloudkms.admin",
                    member: "serviceAccount:vault@p.iam.gserviceaccount.com",
                },
            },
        ],
        expect: /roles\/cloudkms.admin/,
    },
    "azure-keyvault-role-unseal-least-privilege": {
        ok: [
            {
                type: "azure-native:authorization:RoleAssignment",
                name: "ra",
                props: {
                    principalId: "p",
                    roleDefinitionId:
                        "/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6",
                    scope: "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv/keys/unseal",
                },
            },
        ],
        bad: [
            {
                type: "azure-native:authorization:RoleAssignment",
                name: "ra",
                props: {
                    principalId: "p",
                    roleDefinitionId:
                        "/providers/Microsoft.Authorization/roleDefinitions/14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
                    scope: "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv",
                },
            },
        ],
        expect: /scoped to the whole Key Vault/,
    },
    "backup-bucket-versioning": {
        ok: [...f.s3Stack(), f.gcsBucket(), ...f.azureStorage()],
        bad: f.s3Stack({ versioning: "Suspended" }),
        expect: /has no versioning/,
    },
    "backup-bucket-worm": {
        ok: [...f.s3Stack(), f.gcsBucket(), ...f.azureStorage()],
        bad: f.s3Stack({ lock: { mode: "GOVERNANCE" } }),
        expect: /use COMPLIANCE/,
        stack: "prod",
    },
    "backup-bucket-no-public-access": {
        ok: [...f.s3Stack(), f.gcsBucket(), ...f.azureStorage()],
        bad: f.s3Stack({ pab: { restrictPublicBuckets: false } }),
        expect: /BucketPublicAccessBlock/,
    },
    "backup-bucket-tls-only": {
        ok: [...f.s3Stack(), ...f.azureStorage()],
        bad: f.s3Stack({ policy: null }),
        expect: /denying non-TLS access/,
    },
    "backup-writer-no-delete": {
        ok: [
            f.iamPolicy("aws:iam/userPolicy:UserPolicy", [writer]),
            {
                type: "gcp:storage/bucketIAMMember:BucketIAMMember",
                name: "w",
                props: { bucket: "b", role: "roles/storage.objectCreator", member: "serviceAccount:w@p" },
            },
        ],
        bad: [
            f.iamPolicy("aws:iam/userPolicy:UserPolicy", [{ ...writer, Action: ["s3:PutObject", "s3:DeleteObject"] }]),
        ],
        expect: /s3:DeleteObject/,
    },
    "vault-approle-token-ttl": {
        ok: [f.appRole()],
        bad: [f.appRole({ tokenTtl: 86400 })],
        expect: /token_ttl is 86400s/,
    },
    "vault-policy-backend-least-privilege": {
        ok: [
            f.vaultPolicy("bonito-backend", f.BACKEND_PATHS),
            f.vaultPolicy("bonito-pulumi-admin", { "sys/audit/*": ["create", "update", "sudo"] }),
        ],
        bad: [f.vaultPolicy("bonito-backend", { ...f.BACKEND_PATHS, "sys/mounts": ["read"] })],
        expect: /may not touch sys\//,
    },
    "container-no-credentials-on-command-line": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                (p) =>
                    (p.healthcheck = {
                        tests: ["CMD-SHELL", "VAULT_TOKEN=hvs.CAESIabcdefghijklmnopqrstuvwx vault status"],
                    }),
            ),
        ],
        expect: /passes a credential/,
    },
};

describe("every policy has a compliant and a violating case", () => {
    it("covers exactly the policies of the pack", () => {
        const names = POLICIES.map((p) => p.name).filter((n) => n !== "container-secrets-marked-secret");
        assert.deepEqual(Object.keys(CASES).sort(), names.sort());
    });
    it("every policy is mandatory (or remediates), with a description and remediation steps", () => {
        for (const p of POLICIES) {
            assert.ok(["mandatory", "remediate"].includes(p.enforcementLevel ?? ""), p.name);
            assert.ok(p.description.length > 20 && (p.remediationSteps ?? "").length > 10, p.name);
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+){2,}$/);
        }
    });
    for (const p of POLICIES as P[]) {
        const c = CASES[p.name];
        if (!c) continue;
        const run = async (rs: TestResource[]) => {
            if (isStackPolicy(p)) return (await validateStack(p, rs, c.stack)).violations.map((v) => v.message);
            const out: string[] = [];
            for (const r of rs) out.push(...(await validateResource(p, r, c.stack)).violations.map((v) => v.message));
            return out;
        };
        it(`${p.name}: compliant case passes`, async () => {
            assert.deepEqual(await run(c.ok), []);
        });
        it(`${p.name}: violating case is caught`, async () => {
            const v = await run(c.bad);
            assert.ok(v.length > 0, "no violation reported");
            assert.ok(
                v.some((m) => c.expect.test(m)),
                `messages: ${JSON.stringify(v)}`,
            );
        });
    }
});

describe("container-secrets-marked-secret (remediation: validation cannot see secrets)", () => {
    const p = POLICIES.find((x) => x.name === "container-secrets-marked-secret") as ResourceValidationPolicy;
    it("leaves a container whose credentials are secrets alone", async () => {
        assert.equal(await remediate(p, f.container()), undefined);
    });
    it("marks a plain credential environment variable secret", async () => {
        const bad = f.container(
            "vault-0",
            (x) => (x.envs = ["VAULT_ADDR=https://127.0.0.1:8200", "AWS_SECRET_ACCESS_KEY=abc"]),
        );
        const fixed = await remediate(p, bad);
        assert.ok(fixed, "not remediated");
        assert.equal((fixed.envs as { constructor: { name: string } }).constructor.name, "Secret");
    });
    it("marks a plain private-key upload secret", async () => {
        const bad = f.container(
            "vault-0",
            (x) => (x.uploads[2].content = "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n"),
        );
        const fixed = await remediate(p, bad);
        assert.ok(fixed, "not remediated");
        assert.equal((fixed.uploads as { constructor: { name: string } }).constructor.name, "Secret");
    });
    it("does not count references (paths, addresses) as credentials", async () => {
        const ok = f.container(
            "vault-0",
            (x) =>
                (x.envs = [
                    "VAULT_ADDR=https://127.0.0.1:8200",
                    "VAULT_CACERT=/vault/tls/ca.pem",
                    "GOOGLE_APPLICATION_CREDENTIALS=/vault/gcp/sa.json",
                ]),
        );
        assert.equal(await remediate(p, ok), undefined);
    });
});

describe("engine behaviour the harness reproduces", () => {
    it("an unknown value during preview is an advisory, not a violation", async () => {
        const p = POLICIES.find((x) => x.name === "aws-kms-key-rotation") as ResourceValidationPolicy;
        const out = await validateResource(p, {
            type: "aws:kms/key:Key",
            name: "k",
            props: { enableKeyRotation: UNKNOWN },
        });
        assert.deepEqual(out.violations, []);
        assert.match(out.advisories[0], /can't be known during preview/);
    });
    it("validation sees secret values unwrapped", async () => {
        const p = POLICIES.find((x) => x.name === "aws-kms-key-rotation") as ResourceValidationPolicy;
        const out = await validateResource(p, {
            type: "aws:kms/key:Key",
            name: "k",
            props: { enableKeyRotation: secret(false) },
        });
        assert.equal(out.violations.length, 1);
    });
});
