/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures edit nested JSON documents freely */
/**
 * Happy-path resources, one factory per resource type, shaped like what the program declares.
 * Each policy test applies one mutation to one of these.
 */
import type { TestResource } from "./harness";
import { secret } from "./harness";

export const C = "docker:index/container:Container";

export function serverConfig(over: (c: Record<string, any>) => void = () => undefined): string {
    const cfg: Record<string, any> = {
        disable_mlock: true,
        storage: {
            raft: {
                path: "/vault/data",
                node_id: "vault-0",
                retry_join: [
                    {
                        leader_api_addr: "https://vault-1:8202",
                        leader_ca_cert_file: "/vault/tls/ca.pem",
                        leader_client_cert_file: "/vault/tls/node.pem",
                        leader_client_key_file: "/vault/tls/node-key.pem",
                    },
                ],
            },
        },
        listener: [
            {
                tcp: {
                    address: "0.0.0.0:8200",
                    tls_disable: false,
                    tls_cert_file: "/vault/tls/node.pem",
                    tls_key_file: "/vault/tls/node-key.pem",
                    tls_min_version: "tls13",
                },
            },
            {
                tcp: {
                    address: "0.0.0.0:8202",
                    tls_disable: false,
                    tls_cert_file: "/vault/tls/node.pem",
                    tls_key_file: "/vault/tls/node-key.pem",
                    tls_min_version: "tls13",
                    tls_client_ca_file: "/vault/tls/ca.pem",
                    tls_require_and_verify_client_cert: true,
                },
            },
        ],
        seal: { awskms: { region: "us-east-1", kms_key_id: "alias/bonito" } },
    };
    over(cfg);
    return JSON.stringify(cfg, null, 2);
}

export function container(
    name = "vault-0",
    over: (p: Record<string, any>) => void = () => undefined,
    cfg?: string,
): TestResource {
    const props: Record<string, any> = {
        name: `bonito-vault-staging-${name}`,
        image: `sha256:${"0".repeat(64)}`,
        entrypoints: ["docker-entrypoint.sh"],
        command: ["server", "-config=/vault/config/server.json"],
        capabilities: { adds: ["IPC_LOCK", "SETUID", "SETGID"], drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        memory: 1024,
        memorySwap: 1024,
        ulimits: [
            { name: "core", soft: 0, hard: 0 },
            { name: "nofile", soft: 65536, hard: 65536 },
        ],
        envs: secret([
            "AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP",
            "AWS_SECRET_ACCESS_KEY=abc",
            "VAULT_ADDR=https://127.0.0.1:8200",
        ]),
        uploads: [
            { file: "/vault/config/server.json", content: cfg ?? serverConfig((c) => (c.storage.raft.node_id = name)) },
            { file: "/vault/tls/ca.pem", content: "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n" },
            {
                file: "/vault/tls/node-key.pem",
                content: secret("-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n"),
            },
        ],
        volumes: [
            { volumeName: `bonito-vault-staging-${name}-data`, containerPath: "/vault/data" },
            { volumeName: `bonito-vault-staging-${name}-audit`, containerPath: "/vault/audit" },
        ],
        healthcheck: { tests: ["CMD", "vault", "status"] },
        labels: [{ label: "bonito.role", value: "vault-server" }],
    };
    over(props);
    return { type: C, name, props };
}

export function volume(name: string, protect = true): TestResource {
    return { type: "docker:index/volume:Volume", name, props: { name, driver: "local" }, protect };
}

/** A cluster of `n` nodes with their volumes. */
export function cluster(n = 3): TestResource[] {
    const out: TestResource[] = [];
    for (let i = 0; i < n; i++) {
        const node = `vault-${i}`;
        out.push(
            container(node),
            volume(`bonito-vault-staging-${node}-data`),
            volume(`bonito-vault-staging-${node}-audit`),
        );
    }
    return out;
}

export function audit(name: string, type: string, options: Record<string, unknown> = {}): TestResource {
    return { type: "vault:index/audit:Audit", name, props: { type, path: name, options } };
}

export const AWS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

export function iamPolicy(type: string, statements: unknown[]): TestResource {
    return {
        type,
        name: "unseal-policy",
        props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) },
    };
}

export function s3Stack(
    over: {
        bucket?: Record<string, unknown>;
        lock?: Record<string, unknown> | null;
        versioning?: string | null;
        pab?: Record<string, unknown> | null;
        policy?: unknown[] | null;
    } = {},
): TestResource[] {
    const b = "snapshots";
    const out: TestResource[] = [
        {
            type: "aws:s3/bucket:Bucket",
            name: b,
            props: { bucket: "bonito-snapshots", objectLockEnabled: true, id: "bonito-snapshots", ...over.bucket },
        },
    ];
    if (over.versioning !== null)
        out.push({
            type: "aws:s3/bucketVersioning:BucketVersioning",
            name: "v",
            props: { bucket: "bonito-snapshots", versioningConfiguration: { status: over.versioning ?? "Enabled" } },
        });
    if (over.lock !== null)
        out.push({
            type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            name: "lock",
            props: {
                bucket: "bonito-snapshots",
                rule: { defaultRetention: { mode: "COMPLIANCE", days: 30, ...over.lock } },
            },
        });
    if (over.pab !== null)
        out.push({
            type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            name: "pab",
            props: {
                bucket: "bonito-snapshots",
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
                ...over.pab,
            },
        });
    if (over.policy !== null)
        out.push({
            type: "aws:s3/bucketPolicy:BucketPolicy",
            name: "tls",
            props: {
                bucket: "bonito-snapshots",
                policy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: over.policy ?? [
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:*",
                            Resource: ["arn:aws:s3:::bonito-snapshots", "arn:aws:s3:::bonito-snapshots/*"],
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            },
        });
    return out;
}

export function gcsBucket(over: Record<string, unknown> = {}): TestResource {
    return {
        type: "gcp:storage/bucket:Bucket",
        name: "snapshots",
        props: {
            name: "bonito-snapshots",
            // GCS refuses versioning beside a retention policy; the policy protects instead.
            versioning: { enabled: false },
            retentionPolicy: { retentionPeriod: 30 * 86400, isLocked: true },
            publicAccessPrevention: "enforced",
            uniformBucketLevelAccess: true,
            ...over,
        },
    };
}

export function azureStorage(
    over: {
        account?: Record<string, unknown>;
        container?: Record<string, unknown>;
        days?: number | null;
        versioning?: boolean;
    } = {},
): TestResource[] {
    const out: TestResource[] = [
        {
            type: "azure-native:storage:StorageAccount",
            name: "snapshots",
            props: {
                accountName: "bonitosnapshots",
                allowBlobPublicAccess: false,
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: "TLS1_2",
                ...over.account,
            },
        },
        {
            type: "azure-native:storage:BlobServiceProperties",
            name: "svc",
            props: { accountName: "bonitosnapshots", isVersioningEnabled: over.versioning ?? true },
        },
        {
            type: "azure-native:storage:BlobContainer",
            name: "c",
            props: {
                accountName: "bonitosnapshots",
                containerName: "snapshots",
                publicAccess: "None",
                ...over.container,
            },
        },
    ];
    if (over.days !== null)
        out.push({
            type: "azure-native:storage:BlobContainerImmutabilityPolicy",
            name: "imm",
            props: {
                accountName: "bonitosnapshots",
                containerName: "snapshots",
                immutabilityPeriodSinceCreationInDays: over.days ?? 30,
            },
        });
    return out;
}

export function appRole(over: Record<string, unknown> = {}): TestResource {
    return {
        type: "vault:appRole/authBackendRole:AuthBackendRole",
        name: "bonito-backend",
        props: {
            backend: "approle",
            roleName: "bonito-backend",
            tokenTtl: 3600,
            tokenMaxTtl: 14400,
            tokenPolicies: ["bonito-backend"],
            ...over,
        },
    };
}

export function vaultPolicy(name: string, paths: Record<string, string[]>): TestResource {
    const doc = { path: Object.fromEntries(Object.entries(paths).map(([p, c]) => [p, { capabilities: c }])) };
    return { type: "vault:index/policy:Policy", name, props: { name, policy: JSON.stringify(doc) } };
}

export const BACKEND_PATHS = {
    "bonito/data/*": ["create", "update", "read"],
    "bonito/metadata/*": ["list", "read", "delete"],
    "*": ["deny"],
};

/** An aws entry point as the program declares it: NLB with a security group, HTTPS-checked IP targets. */
export function awsEntryPoint(
    opts: { targets?: string[]; healthPath?: string; healthProtocol?: string; clientCidr?: string } = {},
): TestResource[] {
    const targets = opts.targets ?? ["10.0.1.10", "10.0.2.10", "10.0.3.10"];
    return [
        {
            type: "aws:lb/loadBalancer:LoadBalancer",
            name: "nlb",
            props: { loadBalancerType: "network", internal: true, securityGroups: ["sg-1"] },
        },
        {
            type: "aws:lb/targetGroup:TargetGroup",
            name: "targets",
            props: {
                targetType: "ip",
                protocol: "TCP",
                healthCheck: {
                    enabled: true,
                    protocol: opts.healthProtocol ?? "HTTPS",
                    path: opts.healthPath ?? "/v1/sys/health?standbyok=true&perfstandbyok=true",
                    matcher: "200",
                },
            },
        },
        ...targets.map((ip, i) => ({
            type: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
            name: `target-${i}`,
            props: { targetGroupArn: "tg", targetId: ip, port: 8200 },
        })),
        { type: "aws:lb/listener:Listener", name: "listener", props: { protocol: "TCP", port: 8200 } },
        {
            type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name: "client-0",
            props: { cidrIpv4: opts.clientCidr ?? "10.20.0.0/16", ipProtocol: "tcp", fromPort: 8200, toPort: 8200 },
        },
    ];
}
/** The prod stack with the bundled monitoring (a webhook receiver, an mtail image). */
export const BUNDLED: Record<string, string> = {
    monitoring: "bundled",
    monitoringWebhookUrl: "https://alerts.bonito.example/hooks/vault",
    monitoringMtailImage: "registry.bonito.example/mtail:3.0.0-rc50",
};
export const BUNDLED_SECRET_KEYS = ["bonito-vault:monitoringWebhookUrl"];
