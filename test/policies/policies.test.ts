/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures edit nested JSON documents freely */
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
import { awsKeyPolicy } from "../../components/unseal/iam";

type P = ResourceValidationPolicy | StackValidationPolicy;

interface Case {
    /** Resources the policy sees (one resource for resource policies: each is validated). */
    ok: TestResource[];
    bad: TestResource[];
    /** A message must match the pattern, or the messages must be exactly these. */
    expect: RegExp | string[];
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
/** The metrics token role as components/monitoring/monitoring.ts declares it, with fields overridden. */
function tokenRole(over: Record<string, unknown> = {}): TestResource {
    return {
        type: "vault:tokenauth/authBackendRole:AuthBackendRole",
        name: "token-role",
        props: {
            roleName: "bonito-metrics",
            allowedPolicies: ["bonito-metrics"],
            disallowedPolicies: ["root"],
            orphan: false,
            renewable: true,
            tokenTtl: 900,
            tokenMaxTtl: 3600,
            tokenNoDefaultPolicy: true,
            tokenType: "service",
            ...over,
        },
    };
}
/** The hand-over as components/settings/vaultSettings.ts declares it (the parts the rule reads). */
function handover(role: Record<string, unknown> = {}, paths: Record<string, string[]> = {}): TestResource {
    const path: Record<string, { capabilities: string[] }> = { "sys/mounts/bonito": { capabilities: ["read"] } };
    for (const [p, c] of Object.entries(paths)) path[p] = { capabilities: c };
    return {
        type: "pulumi-nodejs:dynamic/bonito:VaultHandover",
        name: "handover",
        props: {
            policyName: "pulumi-admin",
            policy: JSON.stringify({ path }),
            role: {
                bind_secret_id: true,
                token_ttl: 7200,
                token_max_ttl: 7200,
                token_policies: ["pulumi-admin"],
                ...role,
            },
        },
    };
}
function lifecycle(days: number): TestResource {
    return {
        type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        name: "lifecycle",
        props: {
            bucket: "bonito-snapshots",
            rules: [
                {
                    id: "expire",
                    status: "Enabled",
                    expiration: { days },
                    noncurrentVersionExpiration: { noncurrentDays: days },
                },
            ],
        },
    };
}
/** A snapshot uploader writing to `bucket` with rclone (components/backup/uploaderConfig.ts). */
function uploader(bucket: string): TestResource {
    return {
        type: f.C,
        name: "uploader",
        props: {
            entrypoints: [
                "/bin/sh",
                "-c",
                `DEST=snapshots:${bucket}\nrclone move /snapshots snapshots:${bucket}`,
                "up",
            ],
            uploads: [{ file: "/etc/rclone/rclone.conf", content: "[snapshots]\ntype = s3\nprovider = AWS\n" }],
            labels: [{ label: "bonito.role", value: "snapshot-uploader" }],
        },
    };
}
const CA_PEM = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n";
function snapshotAgent(envs: string[] = ["VAULT_CACERT=/etc/vault.d/vault-ca.pem"]): TestResource {
    return {
        type: f.C,
        name: "agent",
        props: {
            envs,
            uploads: [{ file: "/etc/vault.d/vault-ca.pem", content: CA_PEM }],
            labels: [{ label: "bonito.role", value: "snapshot-agent" }],
        },
    };
}
function tlsKey(algorithm: string, over: Record<string, unknown>): TestResource {
    return { type: "tls:index/privateKey:PrivateKey", name: "key", props: { algorithm, ...over } };
}
function leaf(validityPeriodHours: number, extraUses: string[] = []): TestResource {
    return {
        type: "tls:index/locallySignedCert:LocallySignedCert",
        name: "cert",
        props: {
            validityPeriodHours,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth", "client_auth", ...extraUses],
        },
    };
}
/** An audit shipper as components/audit/auditShipper.ts declares it (the run-time settings the rule reads). */
function runtimeContainer(over: (p: Record<string, any>) => void = () => undefined): TestResource {
    const props: Record<string, any> = {
        restart: "unless-stopped",
        logDriver: "json-file",
        user: "100:1000",
        uploads: [{ file: "/etc/rclone/secrets/aws-secret-access-key", content: "k", permissions: "0400" }],
        labels: [{ label: "bonito.role", value: "audit-shipper" }],
    };
    over(props);
    return { type: f.C, name: "shipper", props };
}
/** The unseal role and its inline policy on the unseal key: the declared unseal identity. */
const unsealIdentity: TestResource[] = [
    {
        type: "aws:iam/role:Role",
        name: "vault",
        props: { name: "vault", arn: "arn:aws:iam::123456789012:role/vault" },
    },
    {
        type: "aws:iam/rolePolicy:RolePolicy",
        name: "vault-policy",
        props: { role: "vault", policy: JSON.stringify({ Version: "2012-10-17", Statement: [kmsAllow] }) },
    },
];
/** A different key (SSE-KMS for the backup bucket) may be used for more than unsealing. */
const otherKey = {
    Effect: "Allow",
    Action: ["kms:GenerateDataKey", "kms:Decrypt"],
    Resource: "arn:aws:kms:us-east-1:123456789012:key/other",
};
const writer = { Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::bonito-snapshots/vault/*" };
/** The key policy the program declares, with the Vault statement's fields overridden. */
function keyPolicy(use: Record<string, unknown> = {}): unknown {
    const doc = awsKeyPolicy({
        partition: "aws",
        accountId: "123456789012",
        identityArn: "arn:aws:iam::123456789012:role/vault",
    });
    doc.Statement[1] = { ...doc.Statement[1], ...use };
    return doc;
}
function sse(sseAlgorithm: string, kmsMasterKeyId?: string): TestResource {
    return {
        type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        name: "sse",
        props: {
            bucket: "bonito-snapshots",
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm, kmsMasterKeyId } }],
        },
    };
}

/** An audit shipper beside `node`, as components/audit/auditShipper.ts declares it (the parts the rule reads). */
function shipper(node: string): TestResource {
    return {
        type: f.C,
        name: `shipper-${node}`,
        props: {
            entrypoints: ["/bin/sh", "-c", 'while :; do rclone copy "$AUDIT_DIR" "$DEST/$day/"; done', "audit-shipper"],
            volumes: [{ volumeName: `bonito-vault-staging-${node}-audit`, containerPath: "/vault/audit" }],
            labels: [{ label: "bonito.role", value: "audit-shipper" }],
        },
    };
}

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
        expect: /tls_min_version must be tls13 on a production stack/,
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
    "vault-entry-point-health-checked": {
        ok: [...f.cluster(3), ...f.awsEntryPoint()],
        bad: [...f.cluster(3), ...f.awsEntryPoint({ healthProtocol: "TCP", targets: ["10.0.1.10", "10.0.2.10"] })],
        expect: /uses TCP, not HTTPS: a TCP check passes a sealed node|sends traffic to 2 targets but the stack runs 3 Vault servers/,
        stack: "prod",
    },
    "vault-entry-point-client-allow-list": {
        ok: [...f.cluster(3), ...f.awsEntryPoint()],
        bad: [...f.cluster(3), ...f.awsEntryPoint({ clientCidr: "0.0.0.0/0" })],
        expect: /client-0: ingress from 0.0.0.0\/0; the entry point must admit only entryPointClientCidrs/,
    },
    "vault-entry-point-tls-passthrough": {
        ok: [...f.cluster(3), ...f.awsEntryPoint()],
        bad: [
            ...f.cluster(3),
            ...f
                .awsEntryPoint()
                .map((r) =>
                    r.type === "aws:lb/listener:Listener"
                        ? { ...r, props: { ...r.props, protocol: "TLS", certificateArn: "arn:aws:acm:x" } }
                        : r,
                ),
        ],
        expect: /listener: listener protocol TLS: TLS must pass through to Vault/,
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
    "vault-audit-shipped": {
        ok: [...f.cluster(2), shipper("vault-0"), shipper("vault-1")],
        bad: [...f.cluster(2), shipper("vault-0")],
        expect: [
            "Vault server vault-1's audit volume bonito-vault-staging-vault-1-audit is mounted by no audit shipper; its audit logs never reach immutable storage (set auditShipping: true).",
        ],
        stack: "prod",
    },
    "vault-audit-no-log-raw": {
        ok: [f.audit("file", "file", { file_path: "/vault/audit/audit.log" })],
        bad: [f.audit("file", "file", { file_path: "/vault/audit/audit.log", log_raw: "true" })],
        expect: /log_raw/,
    },
    "aws-kms-key-rotation": {
        ok: [{ type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true, deletionWindowInDays: 7 } }],
        bad: [{ type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true, deletionWindowInDays: 6 } }],
        expect: /deletion window is 6 days; deletionWindowInDays must be at least 7 days/,
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
    "vault-container-swap-disabled": {
        ok: [f.container("vault-0", (p) => Object.assign(p, { memory: 2048, memorySwap: 2048 }))],
        bad: [f.container("vault-0", (p) => Object.assign(p, { memory: 2048, memorySwap: 4096 }))],
        expect: [
            "/vault/config/server.json sets disable_mlock but the container allows swap (memory 2048, memorySwap 4096); set memorySwap equal to memory.",
        ],
    },
    "container-role-labelled": {
        ok: [
            f.container(),
            f.container("bonito-vault-staging-vault-0-mtail", (p) => {
                p.labels = [{ label: "bonito.role", value: "mtail" }];
                p.uploads = [];
                p.command = ["--progs", "/etc/mtail"];
                p.image = "sha256:" + "2".repeat(64);
            }),
        ],
        bad: [
            f.container("unlabelled", (p) => (p.labels = [])),
            f.container("odd", (p) => (p.labels = [{ label: "bonito.role", value: "debug" }])),
            f.container("posing", (p) => (p.labels = [{ label: "bonito.role", value: "mtail" }])),
        ],
        expect: [
            "The container has no bonito.role label, so the policies cannot tell what it is; declare it through hardenedContainer() with its role.",
            'The container\'s bonito.role is "debug", which the policies do not know; use one of vault-server, vault-unsealer, snapshot-agent, snapshot-uploader, audit-shipper, prometheus, alertmanager, blackbox, mtail, metrics-agent, audit-archive-init.',
            "The container is labelled bonito.role=mtail but runs Vault (a server command, a Vault image or a Vault config upload); label it vault-server or vault-unsealer.",
        ],
    },
    "container-security-least-privilege": {
        ok: [
            f.container(),
            f.container("snapshot-agent", (p) => {
                p.labels = [];
                p.uploads = [];
                p.command = ["agent"];
                p.image = "ghcr.io/example/agent@sha256:" + "1".repeat(64);
                p.capabilities = { drops: ["ALL"] };
                p.volumes = [{ hostPath: "/dev/log", containerPath: "/dev/log" }];
            }),
        ],
        bad: [
            f.container("vault-0", (p) => {
                p.capabilities = { adds: ["IPC_LOCK", "cap_sys_admin"], drops: ["NET_RAW"] };
                p.securityOpts = ["seccomp=unconfined"];
                p.networkMode = "host";
                p.volumes.push({ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" });
            }),
        ],
        expect: [
            "The container adds capabilities SYS_ADMIN; allowed here: CHOWN, IPC_LOCK, KILL, SETGID, SETUID. Remove them.",
            'The container keeps Docker\'s default capabilities; set `capabilities.drops: ["ALL"]`.',
            'The container can gain privileges through setuid binaries; add securityOpts "no-new-privileges:true".',
            'The container sets security option "seccomp=unconfined"; only "no-new-privileges:true" is allowed. Remove it.',
            'The container sets networkMode "host", sharing a namespace it must not; remove networkMode.',
            "The container bind-mounts the host path /var/run/docker.sock; use a Docker volume instead.",
        ],
    },
    "vault-config-no-unsafe-options": {
        ok: [f.container()],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => {
                    c.raw_storage_endpoint = "true";
                    c.unsafe_allow_api_audit_creation = true;
                    c.listener[1].tcp.telemetry = { unauthenticated_metrics_access: 1 };
                    c.listener[1].tcp.x_forwarded_for_authorized_addrs = "0.0.0.0/0";
                }),
            ),
        ],
        expect: [
            "/vault/config/server.json sets raw_storage_endpoint: sys/raw reads and writes storage beneath the barrier, bypassing every policy check. Remove it.",
            "/vault/config/server.json sets unsafe_allow_api_audit_creation, which is not a reviewed setting; remove it (or review it and add it to SAFE_TOP_LEVEL).",
            "/vault/config/server.json: listener 1 (0.0.0.0:8202) sets telemetry.unauthenticated_metrics_access; the endpoint must require a token. Remove it.",
            "/vault/config/server.json: listener 1 (0.0.0.0:8202) sets x_forwarded_for_authorized_addrs, which is not a reviewed listener setting; remove it (or review it and add it to SAFE_LISTENER).",
        ],
    },
    "kms-key-deletion-protected": {
        ok: [
            { type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true }, protect: true },
            {
                type: "gcp:kms/cryptoKey:CryptoKey",
                name: "g",
                props: { deletionPolicy: "PREVENT", destroyScheduledDuration: "2592000s" },
                protect: true,
            },
        ],
        bad: [
            { type: "aws:kms/key:Key", name: "k", props: { enableKeyRotation: true } },
            {
                type: "gcp:kms/cryptoKey:CryptoKey",
                name: "g",
                props: { deletionPolicy: "DELETE", destroyScheduledDuration: "86400s" },
                protect: true,
            },
        ],
        expect: [
            "The key is not protected, so pulumi destroy or a replacement deletes it; declare it with protect: true.",
            'The crypto key\'s deletionPolicy is DELETE; set deletionPolicy: "PREVENT".',
            "The crypto key's destroyScheduledDuration is 86400s; keep destroyed versions recoverable for at least 2592000s (30 days).",
        ],
    },
    "aws-kms-key-policy-least-privilege": {
        ok: [
            ...unsealKey.map((r) =>
                r.name === "key" ? { ...r, props: { ...r.props, policy: JSON.stringify(keyPolicy()) } } : r,
            ),
            ...unsealIdentity,
        ],
        bad: [
            ...unsealKey.map((r) =>
                r.name === "key"
                    ? {
                          ...r,
                          props: {
                              ...r.props,
                              policy: JSON.stringify(keyPolicy({ Principal: { AWS: "*" }, Action: "kms:*" })),
                          },
                      }
                    : r,
            ),
        ],
        expect: [
            "KMS key key's policy: statement VaultIdentityUsesKey allows principal *; name the account root or the Vault role by ARN.",
            "KMS key key's policy: statement VaultIdentityUsesKey allows kms:*; list the actions by name.",
            "The unseal key key's policy: statement VaultIdentityUsesKey lets * use the key (kms:Encrypt, kms:Decrypt, kms:ReEncryptFrom, kms:ReEncryptTo, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext, kms:GenerateDataKeyPair, kms:GenerateDataKeyPairWithoutPlaintext, kms:GenerateMac); only the declared unseal identity may.",
        ],
    },
    "backup-bucket-kms-encryption": {
        ok: [
            ...f.s3Stack(),
            sse("aws:kms", "arn:aws:kms:us-east-1:123456789012:key/backup"),
            f.gcsBucket(),
            ...f.azureStorage(),
        ],
        bad: [...f.s3Stack(), sse("AES256")],
        expect: ['S3 bucket snapshots encrypts with AES256; use sseAlgorithm "aws:kms" with the backup key.'],
    },
    "backup-bucket-destroy-protected": {
        ok: [
            ...f.s3Stack().map((r) => ({ ...r, protect: r.type === "aws:s3/bucket:Bucket" })),
            { ...f.gcsBucket({ forceDestroy: false }), protect: true },
        ],
        bad: [
            {
                ...f.gcsBucket({ forceDestroy: true, softDeletePolicy: { retentionDurationSeconds: 0 } }),
                protect: false,
            },
        ],
        expect: [
            "This backup resource is not protected, so pulumi destroy deletes it; declare it with protect: true.",
            "The bucket sets forceDestroy, so pulumi destroy empties it first; set forceDestroy: false.",
            "The bucket keeps deleted objects for 0s; set softDeletePolicy.retentionDurationSeconds to at least 604800.",
        ],
    },
    "vault-approle-secret-id-required": {
        ok: [f.appRole({ bindSecretId: true }), f.appRole()],
        bad: [
            f.appRole({
                bindSecretId: "false",
                secretIdBoundCidrs: ["10.0.0.0/8"],
                tokenPolicies: ["bonito-backend", "admin"],
            }),
        ],
        expect: [
            "bind_secret_id is off, so the role id alone logs in; set bindSecretId: true (a CIDR binding does not replace the secret id).",
            "token_policies names admin, which no least-privilege rule checks; use default, bonito-backend, snapshot-agent, bonito-migration, bonito-rolling, bonito-metrics (or add the policy to reviewedPolicies with its own rule).",
        ],
    },
    "vault-policy-metrics-least-privilege": {
        ok: [f.vaultPolicy("bonito-metrics", { "sys/metrics": ["read"], "auth/token/renew-self": ["update"] })],
        bad: [f.vaultPolicy("bonito-metrics", { "sys/metrics": ["read"], "sys/storage/raft/snapshot": ["read"] })],
        expect: [
            'Metrics policy bonito-metrics grants read on "sys/storage/raft/snapshot"; it may only read metrics: "sys/metrics" [read]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update].',
        ],
    },
    "monitoring-alerting-path": {
        stack: "prod",
        ok: [
            ...f.cluster(3),
            f.vaultPolicy("bonito-metrics", { "sys/metrics": ["read"] }),
            f.appRole({ roleName: "bonito-metrics", tokenPolicies: ["bonito-metrics"], tokenNoDefaultPolicy: true }),
        ],
        bad: f.cluster(3),
        expect: [
            "No Vault policy bonito-metrics: nothing may read Vault's metrics, so no health alert can fire.",
            "No AppRole role issues the bonito-metrics policy: no agent can log in for Prometheus, which cannot scrape sys/metrics.",
        ],
    },
    "vault-policy-migration-least-privilege": {
        ok: [
            f.vaultPolicy("bonito-migration", {
                "bonito/data/*": ["create", "read", "update"],
                "bonito/metadata/*": ["create", "read", "update", "list", "delete"],
                "bonito/delete/*": ["update"],
                "bonito/destroy/*": ["update"],
            }),
            f.appRole({ roleName: "bonito-migration", tokenPolicies: ["bonito-migration"], secretIdTtl: 86400 }),
            // A neighbour it must not judge: the backend's role carries no migration policy.
            f.appRole({ secretIdTtl: 0 }),
        ],
        bad: [
            f.vaultPolicy("bonito-migration", {
                "bonito/data/*": ["create", "read", "update"],
                "bonito/undelete/*": ["update"],
                "sys/policies/acl/*": ["create", "update"],
            }),
            f.appRole({ roleName: "bonito-migration", tokenPolicies: ["bonito-migration"], secretIdTtl: 0 }),
            f.appRole({
                roleName: "bonito-migration",
                tokenPolicies: ["bonito-migration", "bonito-backend"],
                secretIdTtl: 30 * 86400,
            }),
        ],
        expect: [
            'Migration policy bonito-migration grants update on "bonito/undelete/*"; it may only write under the KV mount: "bonito/data/*" [create, read, update]; "bonito/metadata/*" [create, read, update, list, delete]; "bonito/delete/*" [update]; "bonito/destroy/*" [update]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update]; "auth/token/revoke-self" [update].',
            'Migration policy bonito-migration grants create, update on "sys/policies/acl/*"; it may only write under the KV mount: "bonito/data/*" [create, read, update]; "bonito/metadata/*" [create, read, update, list, delete]; "bonito/delete/*" [update]; "bonito/destroy/*" [update]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update]; "auth/token/revoke-self" [update].',
            "The migration role's secret ID lives forever (secretIdTtl 0 or unset); it must expire within 168h (migrationWindow).",
            "The migration role also gives its tokens bonito-backend; it may carry only bonito-migration.",
            "The migration role's secret ID lives 2592000 s; it must expire within 168h (migrationWindow).",
        ],
    },
    "vault-policy-snapshot-agent-least-privilege": {
        ok: [
            f.vaultPolicy("snapshot-agent", { "sys/storage/raft/snapshot": ["read"] }),
            f.vaultPolicy("bonito-backend", f.BACKEND_PATHS),
        ],
        bad: [
            f.vaultPolicy("snapshot-agent", {
                "sys/storage/raft/snapshot": ["read", "update"],
                "sys/storage/raft/snapshot-force": ["update"],
            }),
        ],
        expect: [
            'Snapshot agent policy snapshot-agent grants update on "sys/storage/raft/snapshot"; it may only take snapshots: "sys/storage/raft/snapshot" [read]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update]; "auth/token/revoke-self" [update].',
            'Snapshot agent policy snapshot-agent grants update on "sys/storage/raft/snapshot-force"; it may only take snapshots: "sys/storage/raft/snapshot" [read]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update]; "auth/token/revoke-self" [update].',
        ],
    },
    "vault-policy-rolling-least-privilege": {
        ok: [
            f.vaultPolicy("bonito-rolling", {
                "sys/storage/raft/autopilot/state": ["read"],
                "sys/step-down": ["update", "sudo"],
            }),
            f.appRole({ roleName: "bonito-rolling", tokenPolicies: ["bonito-rolling"] }),
        ],
        bad: [
            f.vaultPolicy("bonito-rolling", {
                "sys/storage/raft/autopilot/state": ["read"],
                "sys/step-down": ["update", "sudo"],
                "sys/storage/raft/remove-peer": ["update"],
            }),
            f.appRole({ roleName: "bonito-rolling", tokenPolicies: ["bonito-rolling", "bonito-backend"] }),
        ],
        expect: [
            'Rolling identity policy bonito-rolling grants update on "sys/storage/raft/remove-peer"; it may only read autopilot\'s state and step the active node down: "sys/storage/raft/autopilot/state" [read]; "sys/step-down" [update, sudo]; "auth/token/lookup-self" [read]; "auth/token/renew-self" [update]; "auth/token/revoke-self" [update].',
            "The rolling identity's AppRole bonito-rolling gives its tokens bonito-backend; it may carry only bonito-rolling.",
        ],
    },
    "vault-tokenrole-metrics-least-privilege": {
        // The backend's tokens bound to the clients' range, the metrics identity to Prometheus's.
        ok: [
            f.appRole({ tokenBoundCidrs: ["10.20.0.0/16"] }),
            f.appRole({
                roleName: "bonito-metrics",
                tokenPolicies: ["bonito-metrics"],
                tokenNoDefaultPolicy: true,
                tokenBoundCidrs: ["10.30.0.0/24"],
                secretIdBoundCidrs: ["10.30.0.0/24"],
            }),
            tokenRole({ tokenBoundCidrs: ["10.30.0.0/24"] }),
        ],
        bad: [
            f.appRole({ tokenBoundCidrs: ["10.20.0.0/16"] }),
            f.appRole({
                roleName: "bonito-metrics",
                tokenPolicies: ["bonito-metrics", "bonito-backend"],
                tokenBoundCidrs: ["10.30.0.0/24"],
            }),
            tokenRole({ allowedPolicies: ["bonito-metrics", "default"], tokenBoundCidrs: ["10.30.0.0/24"] }),
            tokenRole({ orphan: true, tokenPeriod: 2592000, tokenBoundCidrs: ["10.30.0.0/24"] }),
            tokenRole({ tokenBoundCidrs: ["0.0.0.0/1"], tokenMaxTtl: 0 }),
        ],
        expect: [
            "AppRole role bonito-metrics: its tokens carry bonito-backend beside the metrics policy; carry only bonito-metrics.",
            "AppRole role bonito-metrics: tokenNoDefaultPolicy is off, so every token also carries the default policy; set it to true.",
            "AppRole role bonito-metrics: secretIdBoundCidrs is unset while the AppRole role bonito-backend (10.20.0.0/16) binds its tokens to addresses; bind the metrics identity too (monitoringTokenBoundCidrs: where Prometheus and its agent reach Vault from).",
            "Token role bonito-metrics: its tokens may carry default; allow only bonito-metrics.",
            "Token role bonito-metrics: orphan is on: its tokens outlive the token that created them and any revocation of it; turn it off (Prometheus's Vault Agent logs in itself).",
            "Token role bonito-metrics: tokenPeriod is 2592000s: a periodic token renews forever; remove it (the agent logs in again instead).",
            "Token role bonito-metrics: tokenBoundCidrs lists 0.0.0.0/1, which admits anyone (an IPv4 prefix shorter than /8 or IPv6 shorter than /32); list where Prometheus and its agent reach Vault from.",
            "Token role bonito-metrics: tokenMaxTtl is unset (the mount's 768h, renewable all that time); set it to at most 14400s.",
        ],
    },
    "vault-handover-admin-least-privilege": {
        ok: [handover()],
        bad: [handover({ bind_secret_id: false }, { "sys/*": ["sudo"] })],
        expect: [
            "The admin role's bind_secret_id is off, so its role id alone logs in as Pulumi's admin; set it to true.",
            'The admin policy grants sudo on "sys/*", a glob path; grant sudo only on named endpoints.',
        ],
    },
    "backup-bucket-lifecycle-retention": {
        ok: [...f.s3Stack(), lifecycle(30)],
        bad: [...f.s3Stack(), lifecycle(7)],
        expect: /Lifecycle lifecycle expires objects after 7 day\(s\), but bonito-snapshots retains objects 30 day\(s\)/,
    },
    "backup-sidecar-destination-declared": {
        ok: [...f.s3Stack(), uploader("bonito-snapshots")],
        bad: [...f.s3Stack(), uploader("someone-elses-bucket")],
        expect: /snapshot-uploader uploader writes to snapshots:someone-elses-bucket \(someone-elses-bucket\), which is not a bucket this stack declares/,
    },
    "vault-audit-device-options": {
        ok: [f.audit("file", "file", { file_path: "/vault/audit/audit.log", mode: "0600", format: "json" })],
        bad: [f.audit("file", "file", { file_path: "stdout", mode: "0644" })],
        expect: [
            'Audit device file (file): file_path "stdout" writes no file on the audit volume; use an absolute path such as /vault/audit/audit.log.',
            'Audit device file (file): mode 0644 lets other users read the audit log; use "0600" or stricter.',
        ],
    },
    "container-vault-client-tls-verified": {
        ok: [f.container(), snapshotAgent()],
        bad: [f.container(), snapshotAgent(["VAULT_SKIP_VERIFY=true"])],
        expect: [
            "snapshot-agent agent: VAULT_SKIP_VERIFY turns off verification of Vault's certificate; remove it.",
            "snapshot-agent agent: VAULT_CACERT is not set, so the agent trusts the image's public CAs instead of the stack's CA; set it.",
        ],
    },
    "tls-certificate-limits": {
        ok: [tlsKey("ECDSA", { ecdsaCurve: "P256" }), leaf(8760)],
        bad: [tlsKey("RSA", { rsaBits: 1024 }), leaf(87600, ["cert_signing"])],
        expect: [
            "Private key key is RSA 1024 bits; use at least 2048 (or ECDSA P256).",
            "Leaf certificate cert allows cert_signing: it could mint trusted certificates; remove them from allowedUses.",
            "Leaf certificate cert is valid 87600 hours; tlsValidityHours must be at most 9552 hours (398 days, the public-CA limit) on a production stack.",
        ],
        stack: "prod",
    },
    "vault-listener-tls-cipher-suites": {
        ok: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) => (c.listener[0].tcp.tls_cipher_suites = "TLS_AES_128_CBC_SHA")),
            ),
        ],
        bad: [
            f.container(
                "vault-0",
                () => undefined,
                f.serverConfig((c) =>
                    Object.assign(c.listener[0].tcp, {
                        tls_min_version: "tls12",
                        tls_cipher_suites: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                    }),
                ),
            ),
        ],
        expect: /listener 0 \(0.0.0.0:8200\) allows TLS 1.2 \(tls_min_version tls12\) with TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA/,
    },
    "container-runtime-hardened": {
        ok: [runtimeContainer()],
        bad: [
            runtimeContainer((p) => {
                p.envs = ["AWS_SECRET_ACCESS_KEY=abc"];
                p.restart = "on-failure";
                p.uploads[0].permissions = "0644";
            }),
        ],
        expect: [
            "audit-shipper shipper: AWS_SECRET_ACCESS_KEY holds a static cloud credential in the environment (visible to docker inspect, even as a Pulumi secret); use the host's instance identity or the writer's 0400 key file.",
            'audit-shipper shipper: restart is "on-failure"; a service must come back after a crash or a reboot (unless-stopped or always).',
            "audit-shipper shipper: /etc/rclone/secrets/aws-secret-access-key (a key, token or credential) is uploaded with mode 0644; use 0400 or 0600.",
        ],
    },
    "vault-settings-hardened": {
        ok: [
            {
                type: "vault:index/mount:Mount",
                name: "kv",
                props: { path: "bonito", type: "kv", options: { version: "2" } },
            },
        ],
        bad: [
            {
                type: "vault:index/mount:Mount",
                name: "kv",
                props: { path: "bonito", type: "kv", options: { version: "1" } },
            },
        ],
        expect: [
            'Mount bonito is KV version 1 (type kv, options.version 1): no version history, no recovery from a bad write; use type kv with options.version "2" (or kv-v2).',
        ],
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
            const expect = c.expect;
            if (Array.isArray(expect)) assert.deepEqual(v, expect);
            else
                assert.ok(
                    v.some((m) => expect.test(m)),
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
    it("marks a plain node TLS key of NodeTls secret, and leaves a secret one alone", async () => {
        const push = (keyPem: unknown) => ({
            type: "pulumi-nodejs:dynamic/bonito:NodeTls",
            name: "vault-0-tls",
            props: { node: "vault-0", certPem: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n", keyPem },
        });
        const pem = "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n";
        const fixed = await remediate(p, push(pem));
        assert.ok(fixed, "not remediated");
        assert.equal((fixed.keyPem as { constructor: { name: string } }).constructor.name, "Secret");
        assert.equal(fixed.certPem, push(pem).props.certPem);
        assert.equal(await remediate(p, push(secret(pem))), undefined);
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
