/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures edit nested JSON documents freely */
/**
 * (2) The mutation table: insecure one-field changes, at least two per rule (the obvious one and
 * another way to defeat the same protection: a string for a boolean, the second listener, a field
 * removed), applied to a REAL resource that the committed stack declares under mocks; the pack
 * must report each, under the rule that owns it.
 * Each file runs the rows for its stack's cloud and the cloud-independent ones (docker, vault);
 * a row that cannot apply to the declared resources fails.
 * Stack: prod (the strictest rules); POLICY_MUTATION_STACK=staging runs the same table on staging
 * with the resources judged as prod.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POLICIES } from "../../policies/policies";
import { runPack, secret, type TestResource } from "./harness";
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
    /** Runs only on a stack with `monitoring: bundled` (mutations-monitoring.test.ts). */
    bundled?: true;
    /** Runs only on a stack with `migrationWindow` set (mutations-migration.test.ts). */
    migration?: true;
    /** A neighbouring, legitimate change: the rule must NOT report it. */
    expect?: "pass";
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

/** The first resource of `type` whose name contains `part`. */
const named = (rs: TestResource[], type: string, part: string) =>
    rs.find((r) => r.type === type && r.name.includes(part))!;
/** Remove a field from a resource's inputs and from the outputs the stack policies see. */
function unset(r: TestResource, key: string): boolean {
    delete r.props[key];
    if (r.outputs) delete r.outputs[key];
    return true;
}
/** Edit the JSON (Vault or IAM) document under `props[key]` in place. */
function editDoc(r: TestResource, edit: (doc: Record<string, any>) => void, key = "policy"): boolean {
    const doc = JSON.parse(r.props[key] as string) as Record<string, any>;
    edit(doc);
    r.props[key] = JSON.stringify(doc);
    return true;
}
/** Set `props[key]` of the first resource of `type`. */
const set =
    (type: string, key: string, value: unknown): Mutation =>
    (rs) => ((first(rs, type).props[key] = value), true);
/** Set (or, with undefined, remove) `props[key]` of node 0. */
const setOnNode0 =
    (key: string, value: unknown): Mutation =>
    (rs) =>
        value === undefined ? unset(server(rs), key) : ((server(rs).props[key] = value), true);
/** Set `field` of statement `i` of the unseal key's key policy. */
const editUnsealKeyStatement =
    (i: number, field: string, value: unknown): Mutation =>
    (rs) =>
        editDoc(named(rs, KEY, "unseal"), (d) => {
            d.Statement[i][field] = value;
        });
/** Declare the resource `pick` finds without `protect`. */
const unprotect =
    (pick: (rs: TestResource[]) => TestResource): Mutation =>
    (rs) => ((pick(rs).protect = false), true);
const vaultPolicy = (rs: TestResource[], name: string) =>
    rs.find((r) => r.type === "vault:index/policy:Policy" && (r.props.name ?? r.name) === name)!;
/** The metrics AppRole role (its tokens carry bonito-metrics; Prometheus's Vault Agent logs in with it). */
const metricsRole = (rs: TestResource[]) =>
    rs.find(
        (r) => r.type === "vault:appRole/authBackendRole:AuthBackendRole" && r.props.roleName === "bonito-metrics",
    )!;
/** A token role as an operator would add one for a long-lived Prometheus token (the pre-agent design). */
const addTokenRole =
    (props: Record<string, unknown>): Mutation =>
    (rs) => {
        rs.push({
            type: "vault:tokenauth/authBackendRole:AuthBackendRole",
            name: "metrics-token-role",
            props: {
                roleName: "bonito-metrics",
                allowedPolicies: ["bonito-metrics"],
                tokenNoDefaultPolicy: true,
                ...props,
            },
            protect: false,
        } as TestResource);
        return true;
    };
const byRole = (rs: TestResource[], role: string) =>
    rs.find(
        (r) =>
            r.type === C &&
            (r.props.labels as { label: string; value: string }[] | undefined)?.some(
                (l) => l.label === "bonito.role" && l.value === role,
            ),
    )!;
function remove(rs: TestResource[], which: (r: TestResource) => boolean): boolean {
    const i = rs.findIndex(which);
    if (i < 0) return false;
    rs.splice(i, 1);
    return true;
}
function editUpload(r: TestResource | undefined, suffix: string, edit: (d: Record<string, any>) => void): boolean {
    const up = (r?.props.uploads as { file: string; content: string }[] | undefined)?.find((u) =>
        u.file.endsWith(suffix),
    );
    if (!up) return false;
    const d = JSON.parse(up.content) as Record<string, any>;
    edit(d);
    up.content = JSON.stringify(d);
    return true;
}
const KEY = "aws:kms/key:Key";
const GKEY = "gcp:kms/cryptoKey:CryptoKey";
const KV = "azure-native:keyvault:Vault";
const ROLE = "vault:appRole/authBackendRole:AuthBackendRole";
const migrationRole = (rs: TestResource[]) =>
    rs.find((r) => r.type === ROLE && r.props.roleName === "bonito-migration")!;
const SNAPSHOT_AGENT = (rs: TestResource[]) => rs.find((r) => r.type === C && r.name.includes("snapshots"))!;
/** A sidecar (not a Vault server): the backup uploader, which holds the bucket credentials. */
const SIDECAR = (rs: TestResource[]) => rs.find((r) => r.type === C && r.name.endsWith("-snapshots-uploader"))!;

/** The audit shippers (components/audit/auditShipper.ts), in node order. */
const shippers = (rs: TestResource[]) =>
    rs.filter(
        (r) =>
            r.type === C &&
            (r.props.labels as { label: string; value: string }[] | undefined)?.some(
                (l) => l.label === "bonito.role" && l.value === "audit-shipper",
            ),
    );
const TG = "aws:lb/targetGroup:TargetGroup";
const NLB = "aws:lb/loadBalancer:LoadBalancer";
const GHC = "gcp:compute/regionHealthCheck:RegionHealthCheck";
const GBS = "gcp:compute/regionBackendService:RegionBackendService";
const GFW = "gcp:compute/firewall:Firewall";
const ALB = "azure-native:network:LoadBalancer";
const NSG = "azure-native:network:NetworkSecurityGroup";
/** Remove every resource of `type` (all of them, or only the first with `onlyFirst`). */
const drop =
    (type: string, onlyFirst = false): Mutation =>
    (rs) => {
        const at = rs.findIndex((r) => r.type === type);
        if (at < 0) return false;
        if (onlyFirst) rs.splice(at, 1);
        else for (let i = rs.length - 1; i >= 0; i--) if (rs[i].type === type) rs.splice(i, 1);
        return true;
    };
/** Edit the aws target group's health check. */
const editAwsHealth =
    (edit: (hc: Record<string, any>) => void): Mutation =>
    (rs) => {
        const tg = first(rs, TG);
        tg.props.healthCheck = { ...(tg.props.healthCheck as object) };
        edit(tg.props.healthCheck as Record<string, any>);
        return true;
    };
/** Edit the azure load balancer's inline document (probes, pools). */
const editAzureLb =
    (edit: (lb: Record<string, any>) => void): Mutation =>
    (rs) => {
        const lb = first(rs, ALB);
        edit(lb.props as Record<string, any>);
        return true;
    };
/** The gcp firewall rule admitting the clients (not Google's probe ranges). */
const clientFirewall = (rs: TestResource[]) => named(rs, GFW, "clients");

const HANDOVER = "pulumi-nodejs:dynamic/bonito:VaultHandover";
const INIT = "pulumi-nodejs:dynamic/bonito:VaultInit";
const MOUNT = "vault:index/mount:Mount";
const AUDIT = "vault:index/audit:Audit";
const LSC = "tls:index/locallySignedCert:LocallySignedCert";
const TLS_KEY = "tls:index/privateKey:PrivateKey";
const S3_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const handoverRole = (rs: TestResource[]) => first(rs, HANDOVER).props.role as Record<string, any>;
const appRole = (rs: TestResource[], name: string) => rs.find((r) => r.type === ROLE && r.props.roleName === name)!;
const lifecycleRule = (rs: TestResource[], part: string) =>
    (named(rs, S3_LIFECYCLE, part).props.rules as Record<string, any>[])[0];
const auditOptions = (rs: TestResource[], type: string) =>
    rs.find((r) => r.type === AUDIT && r.props.type === type)!.props.options as Record<string, any>;
/** A bucket's name as the provider reports it (auto-named buckets have it among the outputs only). */
const bucketName = (r: TestResource) => String(r.outputs?.bucket ?? r.outputs?.name ?? r.props.bucket ?? r.props.name);
/** Edit a sidecar's shell script (its entrypoint's `-c` argument). */
function editScript(r: TestResource | undefined, edit: (s: string) => string): boolean {
    const ep = r?.props.entrypoints as string[] | undefined;
    if (!ep) return false;
    const before = ep[2];
    ep[2] = edit(ep[2]);
    return ep[2] !== before;
}
/** Edit a sidecar's uploaded rclone.conf. */
function editRclone(r: TestResource | undefined, edit: (s: string) => string): boolean {
    const up = (r?.props.uploads as { file: string; content: string }[] | undefined)?.find((u) =>
        u.file.endsWith("rclone.conf"),
    );
    if (!up) return false;
    const before = up.content;
    up.content = edit(up.content);
    return up.content !== before;
}

const ROWS: Row[] = [
    {
        policy: "vault-container-no-dev-mode",
        change: "node 0 runs `server -dev`",
        needs: C,
        mutate: setOnNode0("command", ["server", "-dev"]),
    },
    {
        policy: "vault-container-image-pinned",
        change: "node 0 image hashicorp/vault:latest",
        needs: C,
        mutate: setOnNode0("image", "hashicorp/vault:latest"),
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
        policy: "vault-container-core-dumps-disabled",
        change: 'node 0 relabelled bonito.role "snapshot-agent" and its ulimits removed (a label does not exempt Vault)',
        needs: C,
        mutate: (rs) => {
            const node0 = server(rs);
            for (const l of node0.props.labels as { label: string; value: string }[])
                if (l.label === "bonito.role") l.value = "snapshot-agent";
            return unset(node0, "ulimits");
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
        policy: "vault-audit-shipped",
        change: "node 0's audit shipper removed",
        needs: C,
        mutate: (rs) => {
            const s = shippers(rs)[0];
            if (!s) return false;
            rs.splice(rs.indexOf(s), 1);
            return true;
        },
    },
    {
        policy: "vault-audit-shipped",
        change: "node 2's audit shipper mounts node 0's audit volume instead of its own",
        needs: C,
        mutate: (rs) => {
            const all = shippers(rs);
            if (all.length < 3) return false;
            const audit0 = (server(rs).props.volumes as { volumeName: string; containerPath: string }[]).find(
                (v) => v.containerPath === "/vault/audit",
            )!.volumeName;
            (all[2].props.volumes as { volumeName: string }[])[0].volumeName = audit0;
            return true;
        },
    },
    {
        policy: "vault-audit-shipped",
        change: "node 1's audit shipper runs a script without rclone (`sleep infinity`)",
        needs: C,
        mutate: (rs) => {
            const s = shippers(rs)[1];
            if (!s) return false;
            s.props.entrypoints = ["/bin/sh", "-c", "sleep infinity", "audit-shipper"];
            return true;
        },
    },
    {
        policy: "vault-audit-no-log-raw",
        change: "log_raw=true on the first audit device",
        needs: "vault:index/audit:Audit",
        mutate: (rs) => {
            const a = first(rs, "vault:index/audit:Audit");
            a.props.options = { ...(a.props.options as object), log_raw: "true" };
            return true;
        },
    },
    {
        policy: "aws-kms-key-rotation",
        change: "enableKeyRotation false",
        needs: "aws:kms/key:Key",
        mutate: set("aws:kms/key:Key", "enableKeyRotation", false),
    },
    {
        policy: "gcp-kms-cryptokey-rotation",
        change: "rotationPeriod 365 days",
        needs: "gcp:kms/cryptoKey:CryptoKey",
        mutate: set("gcp:kms/cryptoKey:CryptoKey", "rotationPeriod", "31536000s"),
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
        mutate: set("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "role", "roles/cloudkms.admin"),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "role assignment widened to Owner",
        needs: "azure-native:authorization:RoleAssignment",
        mutate: set(
            "azure-native:authorization:RoleAssignment",
            "roleDefinitionId",
            "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        ),
    },
    {
        policy: "backup-bucket-versioning",
        change: "bucket versioning Suspended",
        needs: "aws:s3/bucketVersioning:BucketVersioning",
        mutate: set("aws:s3/bucketVersioning:BucketVersioning", "versioningConfiguration", {
            status: "Suspended",
        }),
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
        mutate: set("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "restrictPublicBuckets", false),
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
        mutate: set("vault:appRole/authBackendRole:AuthBackendRole", "tokenTtl", 86400),
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

    // ---- second rows: each existing rule defeated another way ----
    {
        policy: "vault-container-no-dev-mode",
        change: "node 0's command removed (the image default is `server -dev`)",
        needs: C,
        mutate: setOnNode0("command", undefined),
    },
    {
        policy: "vault-container-image-pinned",
        change: "node 0 image on a floating minor tag hashicorp/vault:1.21",
        needs: C,
        mutate: setOnNode0("image", "hashicorp/vault:1.21"),
    },
    {
        policy: "vault-container-ipc-lock",
        change: 'node 0 privileged as the string "true"',
        needs: C,
        mutate: setOnNode0("privileged", "true"),
    },
    {
        policy: "vault-container-core-dumps-disabled",
        change: "node 0's ulimits removed",
        needs: C,
        mutate: setOnNode0("ulimits", undefined),
    },
    {
        policy: "vault-listener-tls-required",
        change: 'join listener (the second) tls_disable "1"',
        needs: C,
        mutate: editConfig((c) => (c.listener[1].tcp.tls_disable = "1")),
    },
    {
        policy: "vault-listener-tls-min-version",
        change: "join listener tls_min_version removed (Vault defaults to tls12)",
        needs: C,
        mutate: editConfig((c) => delete c.listener[1].tcp.tls_min_version),
    },
    {
        policy: "vault-listener-mtls-prod",
        change: "retry_join 0 without its client certificate",
        needs: C,
        mutate: editConfig((c) => delete c.storage.raft.retry_join[0].leader_client_cert_file),
    },
    {
        policy: "vault-raft-node-count",
        change: "node 0's raft node_id duplicates node 1's",
        needs: C,
        mutate: editConfig((c) => (c.storage.raft.node_id = "vault-1")),
    },
    {
        policy: "vault-volume-data-protected",
        change: "node 0's /vault/data on a host bind mount",
        needs: C,
        mutate: (rs) => {
            const v = (server(rs).props.volumes as Record<string, unknown>[]).find(
                (x) => x.containerPath === "/vault/data",
            )!;
            delete v.volumeName;
            v.hostPath = "/srv/vault/data";
            return true;
        },
    },
    {
        policy: "vault-seal-auto-unseal",
        change: 'cloud seal disabled with the string "true"',
        needs: C,
        mutate: editConfig((c) => {
            const [type] = Object.keys(c.seal);
            c.seal[type].disabled = "true";
        }),
    },
    {
        policy: "vault-seal-no-inline-credentials",
        change: "seal written as a list, its stanza carrying the cloud's credential",
        needs: C,
        mutate: editConfig((c) => {
            const [type] = Object.keys(c.seal);
            const field = { awskms: "access_key", gcpckms: "credentials", azurekeyvault: "client_secret" }[type]!;
            c.seal = [{ [type]: { ...c.seal[type], [field]: '{"private_key":"inline"}' } }];
        }),
    },
    {
        policy: "vault-audit-devices-redundant",
        change: "both audit devices turned into socket devices",
        needs: "vault:index/audit:Audit",
        mutate: (rs) => {
            for (const a of rs.filter((r) => r.type === "vault:index/audit:Audit")) a.props.type = "socket";
            return true;
        },
    },
    {
        policy: "vault-audit-no-log-raw",
        change: 'hmac_accessor "false" on the second audit device',
        needs: "vault:index/audit:Audit",
        mutate: (rs) => {
            const a = rs.filter((r) => r.type === "vault:index/audit:Audit")[1];
            a.props.options = { ...(a.props.options as object), hmac_accessor: "false" };
            return true;
        },
    },
    {
        policy: "aws-kms-key-rotation",
        change: "unseal key deletion window 29 days (prod needs 30)",
        needs: KEY,
        mutate: (rs) => ((named(rs, KEY, "unseal").props.deletionWindowInDays = 29), true),
    },
    {
        policy: "gcp-kms-cryptokey-rotation",
        change: "rotationPeriod removed",
        needs: GKEY,
        mutate: (rs) => unset(first(rs, GKEY), "rotationPeriod"),
    },
    {
        policy: "azure-keyvault-purge-protection",
        change: "enablePurgeProtection removed",
        needs: KV,
        mutate: (rs) => delete (first(rs, KV).props.properties as Record<string, unknown>).enablePurgeProtection,
    },
    {
        policy: "azure-keyvault-purge-protection",
        change: "softDeleteRetentionInDays 7",
        needs: KV,
        mutate: (rs) => (
            ((first(rs, KV).props.properties as Record<string, unknown>).softDeleteRetentionInDays = 7),
            true
        ),
    },
    {
        policy: "aws-iam-unseal-least-privilege",
        change: "unseal statement also names a second key",
        needs: "aws:iam/rolePolicy:RolePolicy",
        mutate: editIam(
            (s) => (s.Resource = [s.Resource, "arn:aws:kms:us-east-1:123456789012:key/other"].flat()),
            "kms:DescribeKey",
        ),
    },
    {
        policy: "aws-iam-policy-no-wildcards",
        change: 'backup writer statement Action "s3:*"',
        needs: "aws:iam/userPolicy:UserPolicy",
        mutate: editIam((s) => (s.Action = "s3:*"), "s3:PutObject"),
    },
    {
        policy: "gcp-kms-iam-unseal-least-privilege",
        change: "key binding member allUsers",
        needs: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
        mutate: set("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "member", "allUsers"),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "role assignment scoped to the whole Key Vault",
        needs: "azure-native:authorization:RoleAssignment",
        mutate: set(
            "azure-native:authorization:RoleAssignment",
            "scope",
            "/subscriptions/s/resourceGroups/rg-vault/providers/Microsoft.KeyVault/vaults/bonito-vault-prod-kv",
        ),
    },
    {
        policy: "backup-bucket-versioning",
        change: "BucketVersioning removed",
        needs: "aws:s3/bucketVersioning:BucketVersioning",
        mutate: (rs) => (rs.splice(rs.indexOf(first(rs, "aws:s3/bucketVersioning:BucketVersioning")), 1), true),
    },
    {
        policy: "backup-bucket-worm",
        change: "object lock retention 1 day",
        needs: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        mutate: set("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "rule", {
            defaultRetention: { mode: "COMPLIANCE", days: 1 },
        }),
    },
    {
        policy: "backup-bucket-no-public-access",
        change: "bucket ACL public-read",
        needs: "aws:s3/bucket:Bucket",
        mutate: set("aws:s3/bucket:Bucket", "acl", "public-read"),
    },
    {
        policy: "backup-bucket-tls-only",
        change: 'bucket policy condition aws:SecureTransport "true" instead of "false"',
        needs: "aws:s3/bucketPolicy:BucketPolicy",
        mutate: (rs) =>
            editDoc(first(rs, "aws:s3/bucketPolicy:BucketPolicy"), (d) => {
                d.Statement[0].Condition = { Bool: { "aws:SecureTransport": "true" } };
            }),
    },
    {
        policy: "backup-writer-no-delete",
        change: 'backup writer allowed "s3:Delete*"',
        needs: "aws:iam/userPolicy:UserPolicy",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "s3:Delete*"]), "s3:PutObject"),
    },
    {
        policy: "vault-approle-token-ttl",
        change: "token_max_ttl removed (the mount default, 768h)",
        needs: ROLE,
        mutate: (rs) => unset(first(rs, ROLE), "tokenMaxTtl"),
    },
    {
        policy: "vault-policy-backend-least-privilege",
        change: "backend policy may create tokens (auth/token/create)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-backend"), (d) => {
                d.path["auth/token/create"] = { capabilities: ["create", "update"] };
            }),
    },
    {
        policy: "vault-policy-backend-least-privilege",
        change: 'backend policy grants on "bonito/*" (every path of the mount)',
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-backend"), (d) => {
                d.path["bonito/*"] = { capabilities: ["read", "list"] };
            }),
    },
    {
        policy: "container-no-credentials-on-command-line",
        change: "a Vault token in a label of node 0",
        needs: C,
        mutate: (rs) => (
            (server(rs).props.labels as { label: string; value: string }[]).push({
                label: "bonito.debug",
                value: "hvs.CAESIabcdefghijklmnopqrstuvwx",
            }),
            true
        ),
    },
    // ---- rows for the rules of issue 16 ----
    {
        policy: "vault-container-swap-disabled",
        change: "node 0 memorySwap twice its memory",
        needs: C,
        mutate: (rs) => ((server(rs).props.memorySwap = 2 * Number(server(rs).props.memory)), true),
    },
    {
        policy: "vault-container-swap-disabled",
        change: "node 0 memorySwap removed (Docker then allows swap)",
        needs: C,
        mutate: setOnNode0("memorySwap", undefined),
    },
    {
        policy: "container-security-least-privilege",
        change: "node 0 adds CAP_SYS_ADMIN",
        needs: C,
        mutate: (rs) => ((server(rs).props.capabilities as { adds: string[] }).adds.push("CAP_SYS_ADMIN"), true),
    },
    {
        policy: "container-security-least-privilege",
        change: "node 0 no longer drops ALL",
        needs: C,
        mutate: (rs) => (((server(rs).props.capabilities as { drops: string[] }).drops = ["NET_RAW"]), true),
    },
    {
        policy: "container-security-least-privilege",
        change: "node 0 without no-new-privileges",
        needs: C,
        mutate: setOnNode0("securityOpts", undefined),
    },
    {
        policy: "container-security-least-privilege",
        change: "node 0 in the host's network namespace",
        needs: C,
        mutate: setOnNode0("networkMode", "host"),
    },
    {
        policy: "container-security-least-privilege",
        change: "snapshot agent mounts the Docker socket",
        needs: C,
        mutate: (rs) => (
            (SNAPSHOT_AGENT(rs).props.volumes = [
                { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" },
            ]),
            true
        ),
    },
    {
        policy: "container-role-labelled",
        change: "backup uploader without its bonito.role label",
        needs: C,
        mutate: (rs) => {
            const l = SIDECAR(rs).props.labels as { label: string; value: string }[];
            SIDECAR(rs).props.labels = l.filter((x) => x.label !== "bonito.role");
            return true;
        },
    },
    {
        policy: "container-role-labelled",
        change: "backup uploader with every label removed",
        needs: C,
        mutate: (rs) => unset(SIDECAR(rs), "labels"),
    },
    {
        policy: "container-role-labelled",
        change: 'backup uploader labelled bonito.role "debug" (a kind the pack does not know)',
        needs: C,
        mutate: (rs) => {
            for (const l of SIDECAR(rs).props.labels as { label: string; value: string }[])
                if (l.label === "bonito.role") l.value = "debug";
            return true;
        },
    },
    {
        policy: "container-role-labelled",
        change: 'node 0 relabelled bonito.role "mtail" (a Vault server posing as a sidecar)',
        needs: C,
        mutate: (rs) => {
            for (const l of server(rs).props.labels as { label: string; value: string }[])
                if (l.label === "bonito.role") l.value = "mtail";
            return true;
        },
    },
    {
        policy: "container-security-least-privilege",
        change: 'backup uploader pidMode "host" and seccomp unconfined',
        needs: C,
        mutate: (rs) => {
            SIDECAR(rs).props.pidMode = "host";
            (SIDECAR(rs).props.securityOpts as string[]).push("seccomp=unconfined");
            return true;
        },
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "raw_storage_endpoint true",
        needs: C,
        mutate: editConfig((c) => (c.raw_storage_endpoint = true)),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: 'introspection_endpoint "1"',
        needs: C,
        mutate: editConfig((c) => (c.introspection_endpoint = "1")),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "enable_response_header_hostname true",
        needs: C,
        mutate: editConfig((c) => (c.enable_response_header_hostname = true)),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "API listener unauthenticated_metrics_access true",
        needs: C,
        mutate: editConfig((c) => (c.listener[0].tcp.telemetry.unauthenticated_metrics_access = true)),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: 'join listener profiling.unauthenticated_pprof_access "true"',
        needs: C,
        mutate: editConfig((c) => (c.listener[1].tcp.profiling = { unauthenticated_pprof_access: "true" })),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "API listener trusts X-Forwarded-For from anywhere",
        needs: C,
        mutate: editConfig((c) => (c.listener[0].tcp.x_forwarded_for_authorized_addrs = "0.0.0.0/0")),
    },
    {
        policy: "vault-policy-snapshot-agent-least-privilege",
        change: "snapshot agent may restore (update on sys/storage/raft/snapshot)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "snapshot-agent"), (d) => {
                d.path["sys/storage/raft/snapshot"].capabilities.push("update");
            }),
    },
    {
        policy: "vault-policy-snapshot-agent-least-privilege",
        change: "snapshot agent may force-restore (sys/storage/raft/snapshot-force)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "snapshot-agent"), (d) => {
                d.path["sys/storage/raft/snapshot-force"] = { capabilities: ["update"] };
            }),
    },
    {
        policy: "vault-policy-rolling-least-privilege",
        change: "rolling identity may change autopilot's configuration (dead-server cleanup, quorum)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-rolling"), (d) => {
                d.path["sys/storage/raft/autopilot/configuration"] = { capabilities: ["read", "update"] };
            }),
    },
    {
        policy: "vault-policy-rolling-least-privilege",
        change: "rolling identity may remove Raft peers (sys/storage/raft/*)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-rolling"), (d) => {
                d.path["sys/storage/raft/*"] = { capabilities: ["update"] };
            }),
    },
    {
        policy: "vault-policy-rolling-least-privilege",
        change: "rolling identity may seal the node (sys/seal, sudo)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-rolling"), (d) => {
                d.path["sys/seal"] = { capabilities: ["update", "sudo"] };
            }),
    },
    {
        policy: "vault-policy-rolling-least-privilege",
        change: "rolling identity may read the backend's secrets",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-rolling"), (d) => {
                d.path["bonito/data/*"] = { capabilities: ["read"] };
            }),
    },
    {
        policy: "vault-policy-rolling-least-privilege",
        change: "rolling AppRole also gives the backend's policy",
        needs: ROLE,
        mutate: (rs) => {
            const r = rs.find((x) => x.type === ROLE && x.props.roleName === "bonito-rolling");
            if (!r) return false;
            r.props.tokenPolicies = ["bonito-rolling", "bonito-backend"];
            return true;
        },
    },
    {
        policy: "vault-policy-metrics-least-privilege",
        change: "metrics token may read everything under sys/ (sys/*)",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-metrics"), (d) => {
                d.path["sys/*"] = { capabilities: ["read"] };
            }),
    },
    {
        policy: "vault-policy-metrics-least-privilege",
        change: "metrics token may take Raft snapshots",
        needs: "vault:index/policy:Policy",
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-metrics"), (d) => {
                d.path["sys/storage/raft/snapshot"] = { capabilities: ["read"] };
            }),
    },
    {
        policy: "monitoring-alerting-path",
        change: "the metrics policy removed",
        needs: "vault:index/policy:Policy",
        mutate: (rs) => remove(rs, (r) => r === vaultPolicy(rs, "bonito-metrics")),
    },
    {
        policy: "monitoring-alerting-path",
        change: "the metrics AppRole role removed",
        needs: ROLE,
        mutate: (rs) => remove(rs, (r) => r === metricsRole(rs)),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: the Alertmanager's receivers emptied",
        needs: C,
        bundled: true,
        mutate: (rs) =>
            editUpload(
                byRole(rs, "alertmanager"),
                "alertmanager.yml",
                (d) => (d.receivers = [{ name: "bonito-vault" }]),
            ),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: the Alertmanager removed",
        needs: C,
        bundled: true,
        mutate: (rs) => remove(rs, (r) => r === byRole(rs, "alertmanager")),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: the Alertmanager's --web.config.file dropped (its API open to the network)",
        needs: C,
        bundled: true,
        mutate: (rs) => {
            const am = byRole(rs, "alertmanager");
            if (!am) return false;
            am.props.command = (am.props.command as string[]).filter((a) => !a.startsWith("--web.config.file="));
            return true;
        },
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: the Alertmanager's web config lists no user",
        needs: C,
        bundled: true,
        mutate: (rs) => editUpload(byRole(rs, "alertmanager"), "web.yml", (d) => (d.basic_auth_users = {})),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: Prometheus sends alerts without basic auth",
        needs: C,
        bundled: true,
        mutate: (rs) =>
            editUpload(byRole(rs, "prometheus"), "prometheus.yml", (d) => {
                delete d.alerting.alertmanagers[0].basic_auth;
            }),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: Prometheus loads no rule files",
        needs: C,
        bundled: true,
        mutate: (rs) => editUpload(byRole(rs, "prometheus"), "prometheus.yml", (d) => (d.rule_files = [])),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: Prometheus stops scraping the audit counters (vault-audit)",
        needs: C,
        bundled: true,
        mutate: (rs) =>
            editUpload(byRole(rs, "prometheus"), "prometheus.yml", (d) => {
                d.scrape_configs = d.scrape_configs.filter((j: any) => j.job_name !== "vault-audit");
            }),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: node 0's mtail removed",
        needs: C,
        bundled: true,
        mutate: (rs) => remove(rs, (r) => r === byRole(rs, "mtail")),
    },
    {
        policy: "vault-approle-secret-id-required",
        change: "bindSecretId false with a CIDR binding",
        needs: ROLE,
        mutate: (rs) => {
            Object.assign(first(rs, ROLE).props, { bindSecretId: false, secretIdBoundCidrs: ["10.0.0.0/8"] });
            return true;
        },
    },
    {
        policy: "vault-approle-secret-id-required",
        change: "the backend role's tokens also carry an admin policy",
        needs: ROLE,
        mutate: (rs) => ((first(rs, ROLE).props.tokenPolicies as string[]).push("admin"), true),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: 'unseal key policy: the Vault statement\'s principal { "AWS": "*" }',
        needs: KEY,
        mutate: editUnsealKeyStatement(1, "Principal", { AWS: "*" }),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: 'unseal key policy: the administrators\' statement Action "kms:*"',
        needs: KEY,
        mutate: editUnsealKeyStatement(0, "Action", "kms:*"),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: "unseal key policy removed (AWS's default grants the account kms:*)",
        needs: KEY,
        mutate: (rs) => unset(named(rs, KEY, "unseal"), "policy"),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "unseal key without protect",
        needs: KEY,
        mutate: unprotect((rs) => named(rs, KEY, "unseal")),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "backup key disabled (isEnabled false)",
        needs: KEY,
        mutate: (rs) => ((named(rs, KEY, "backup").props.isEnabled = false), true),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "crypto key deletionPolicy DELETE",
        needs: GKEY,
        mutate: set(GKEY, "deletionPolicy", "DELETE"),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "crypto key without protect",
        needs: GKEY,
        mutate: unprotect((rs) => first(rs, GKEY)),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "Key Vault key without protect",
        needs: "azure-native:keyvault:Key",
        mutate: unprotect((rs) => first(rs, "azure-native:keyvault:Key")),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "Key Vault without protect",
        needs: KV,
        mutate: unprotect((rs) => first(rs, KV)),
    },
    {
        policy: "backup-bucket-kms-encryption",
        change: "default encryption AES256 instead of aws:kms",
        needs: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        mutate: (rs) => {
            const c = first(
                rs,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            for (const r of c.props.rules as Record<string, any>[])
                r.applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" };
            return true;
        },
    },
    {
        policy: "backup-bucket-kms-encryption",
        change: "kmsMasterKeyId removed (the AWS-managed aws/s3 key)",
        needs: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        mutate: (rs) => {
            const c = first(
                rs,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            for (const r of c.props.rules as Record<string, any>[])
                delete r.applyServerSideEncryptionByDefault.kmsMasterKeyId;
            return true;
        },
    },
    {
        policy: "backup-bucket-kms-encryption",
        change: "storage account blob encryption off",
        needs: "azure-native:storage:StorageAccount",
        mutate: set("azure-native:storage:StorageAccount", "encryption", {
            keySource: "Microsoft.Storage",
            services: { blob: { enabled: false } },
        }),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: "S3 bucket forceDestroy true",
        needs: "aws:s3/bucket:Bucket",
        mutate: set("aws:s3/bucket:Bucket", "forceDestroy", true),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: "S3 bucket without protect",
        needs: "aws:s3/bucket:Bucket",
        mutate: unprotect((rs) => first(rs, "aws:s3/bucket:Bucket")),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: 'GCS bucket forceDestroy "true"',
        needs: "gcp:storage/bucket:Bucket",
        mutate: set("gcp:storage/bucket:Bucket", "forceDestroy", "true"),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: "GCS soft delete off (retention 0)",
        needs: "gcp:storage/bucket:Bucket",
        mutate: set("gcp:storage/bucket:Bucket", "softDeletePolicy", { retentionDurationSeconds: 0 }),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: "Azure blob soft delete disabled",
        needs: "azure-native:storage:BlobServiceProperties",
        mutate: set("azure-native:storage:BlobServiceProperties", "deleteRetentionPolicy", { enabled: false }),
    },
    {
        policy: "backup-bucket-destroy-protected",
        change: "Azure blob container without protect",
        needs: "azure-native:storage:BlobContainer",
        mutate: unprotect((rs) => first(rs, "azure-native:storage:BlobContainer")),
    },
    // ---- rows for the neighbouring changes the existing rules were widened to catch ----
    {
        policy: "vault-container-no-dev-mode",
        change: "`-dev` inside node 0's entrypoint shell string",
        needs: C,
        mutate: (rs) => {
            const ep = server(rs).props.entrypoints as string[];
            ep[2] = ep[2].replace('vault "$@"', 'vault server -dev "$@"');
            return true;
        },
    },
    {
        policy: "vault-container-core-dumps-disabled",
        change: "a second core ulimit entry, unlimited, after the first",
        needs: C,
        mutate: (rs) => (
            (server(rs).props.ulimits as Record<string, unknown>[]).push({ name: "core", soft: -1, hard: -1 }),
            true
        ),
    },
    {
        policy: "aws-kms-key-rotation",
        change: "unseal key rotationPeriodInDays 2560",
        needs: KEY,
        mutate: (rs) => ((named(rs, KEY, "unseal").props.rotationPeriodInDays = 2560), true),
    },
    {
        policy: "aws-iam-policy-no-wildcards",
        change: 'unseal role trust policy Principal "*" (anyone may assume it)',
        needs: "aws:iam/role:Role",
        mutate: (rs) =>
            editDoc(
                first(rs, "aws:iam/role:Role"),
                (d) => {
                    d.Statement[0].Principal = "*";
                },
                "assumeRolePolicy",
            ),
    },
    {
        policy: "aws-iam-policy-no-wildcards",
        change: "unseal role attaches AdministratorAccess",
        needs: "aws:iam/role:Role",
        mutate: set("aws:iam/role:Role", "managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "unseal role assignment scoped to the resource group",
        needs: "azure-native:authorization:RoleAssignment",
        mutate: set(
            "azure-native:authorization:RoleAssignment",
            "scope",
            "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-vault",
        ),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "web UI on on prod",
        needs: C,
        mutate: editConfig((c) => (c.ui = true)),
    },
    {
        policy: "kms-key-deletion-protected",
        change: "crypto key skipInitialVersionCreation true",
        needs: GKEY,
        mutate: set(GKEY, "skipInitialVersionCreation", true),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "Key Vault RBAC authorization off",
        needs: KV,
        mutate: (rs) => (
            ((first(rs, KV).props.properties as Record<string, unknown>).enableRbacAuthorization = false),
            true
        ),
    },
    {
        policy: "azure-keyvault-role-unseal-least-privilege",
        change: "Key Vault access policy granting all key permissions",
        needs: KV,
        mutate: (rs) => (
            ((first(rs, KV).props.properties as Record<string, unknown>).accessPolicies = [
                { tenantId: "t", objectId: "o", permissions: { keys: ["all"] } },
            ]),
            true
        ),
    },
    {
        policy: "vault-config-no-unsafe-options",
        change: "a unix socket listener added",
        needs: C,
        mutate: editConfig((c) => c.listener.push({ unix: { address: "/vault/vault.sock" } })),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: "unseal key policy: the Vault statement's principal in another account",
        needs: KEY,
        mutate: editUnsealKeyStatement(1, "Principal", { AWS: "arn:aws:iam::999999999999:root" }),
    },
    {
        policy: "backup-bucket-kms-encryption",
        change: "default encryption with another account's key",
        needs: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        mutate: (rs) => {
            const c = first(
                rs,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            for (const r of c.props.rules as Record<string, any>[])
                r.applyServerSideEncryptionByDefault.kmsMasterKeyId = "arn:aws:kms:us-east-1:999999999999:key/foreign";
            return true;
        },
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "aws target group health check switched to TCP (a sealed node passes)",
        needs: TG,
        mutate: editAwsHealth((hc) => (hc.protocol = "TCP")),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "aws health check path / (standbys and sealed nodes look alike)",
        needs: TG,
        mutate: editAwsHealth((hc) => (hc.path = "/")),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "aws health check without standbyok (only the active node takes traffic)",
        needs: TG,
        mutate: editAwsHealth((hc) => (hc.path = "/v1/sys/health")),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "one node's aws target attachment removed",
        needs: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
        mutate: drop("aws:lb/targetGroupAttachment:TargetGroupAttachment", true),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "the aws load balancer removed",
        needs: NLB,
        mutate: drop(NLB),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "gcp health check switched to TCP",
        needs: GHC,
        mutate: (rs) => {
            const hc = first(rs, GHC);
            unset(hc, "httpsHealthCheck");
            hc.props.tcpHealthCheck = { port: 8200 };
            return true;
        },
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "one node's gcp network endpoint removed",
        needs: "gcp:compute/networkEndpoint:NetworkEndpoint",
        mutate: drop("gcp:compute/networkEndpoint:NetworkEndpoint", true),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "azure probe switched to Tcp",
        needs: ALB,
        mutate: editAzureLb((lb) => (lb.probes = [{ name: "vault-health", protocol: "Tcp", port: 8200 }])),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "one node's address removed from the azure backend pool",
        needs: ALB,
        mutate: editAzureLb((lb) => lb.backendAddressPools[0].loadBalancerBackendAddresses.pop()),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "aws client ingress rule from 0.0.0.0/0",
        needs: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        mutate: set("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cidrIpv4", "0.0.0.0/0"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "aws network load balancer without its security group",
        needs: NLB,
        mutate: set(NLB, "securityGroups", []),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "gcp client firewall sourceRanges 0.0.0.0/0",
        needs: GFW,
        mutate: (rs) => ((clientFirewall(rs).props.sourceRanges = ["0.0.0.0/0"]), true),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "gcp client firewall sourceRanges removed (GCP then admits 0.0.0.0/0)",
        needs: GFW,
        mutate: (rs) => unset(clientFirewall(rs), "sourceRanges"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "azure NSG client rule from any source (*)",
        needs: NSG,
        mutate: (rs) => {
            const rule = (first(rs, NSG).props.securityRules as Record<string, any>[])[0];
            delete rule.sourceAddressPrefixes;
            rule.sourceAddressPrefix = "*";
            return true;
        },
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "azure NSG client rule from Internet",
        needs: NSG,
        mutate: (rs) => {
            (first(rs, NSG).props.securityRules as Record<string, any>[])[0].sourceAddressPrefixes = ["Internet"];
            return true;
        },
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "aws listener terminates TLS (protocol TLS with a certificate)",
        needs: "aws:lb/listener:Listener",
        mutate: (rs) => {
            const l = first(rs, "aws:lb/listener:Listener");
            l.props.protocol = "TLS";
            l.props.certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/x";
            return true;
        },
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "aws load balancer type application (always terminates TLS)",
        needs: NLB,
        mutate: set(NLB, "loadBalancerType", "application"),
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "aws target group protocol TLS (terminate and re-encrypt)",
        needs: TG,
        mutate: set(TG, "protocol", "TLS"),
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "gcp backend service protocol HTTPS",
        needs: GBS,
        mutate: set(GBS, "protocol", "HTTPS"),
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "gcp HTTPS target proxy added in front of the backend",
        needs: GBS,
        mutate: (rs) => {
            rs.push({
                type: "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
                name: "vault-https-proxy",
                props: { urlMap: "x", sslCertificates: ["y"] },
                protect: false,
                outputs: { urlMap: "x", sslCertificates: ["y"] },
            } as TestResource);
            return true;
        },
    },
    {
        policy: "vault-entry-point-tls-passthrough",
        change: "azure application gateway added in front of the nodes",
        needs: ALB,
        mutate: (rs) => {
            rs.push({
                type: "azure-native:network:ApplicationGateway",
                name: "vault-appgw",
                props: { resourceGroupName: "rg-vault" },
                protect: false,
                outputs: { resourceGroupName: "rg-vault" },
            } as TestResource);
            return true;
        },
    },
    // ---- issue 28: the classes a second independent corpus slipped through. Each class has rows
    // written as a hurried operator would make the change, and a "neighbour" row (expect: "pass"):
    // a legitimate variant the rule must not flag.
    // 1. the metrics identity: the AppRole Prometheus's Vault Agent logs in with, and any token role
    // an operator adds to hand Prometheus a long-lived token instead
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "metrics AppRole also given the backend policy (to debug a scrape)",
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.tokenPolicies as string[]).push("bonito-backend"), true),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: 'metrics AppRole tokenNoDefaultPolicy "false"',
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.tokenNoDefaultPolicy = "false"), true),
    },
    {
        policy: "vault-approle-token-ttl",
        change: "metrics AppRole made periodic (30 days) so the agent never logs in again",
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.tokenPeriod = 2592000), true),
    },
    {
        policy: "vault-approle-token-ttl",
        change: "metrics AppRole tokenMaxTtl 0 (the mount's 768h)",
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.tokenMaxTtl = 0), true),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "token role added for a long-lived Prometheus token: orphan, periodic 30 days",
        needs: ROLE,
        mutate: addTokenRole({ orphan: true, renewable: true, tokenPeriod: 2592000 }),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "token role added: not orphan, not periodic, but no TTL (the mount's 768h, renewable)",
        needs: ROLE,
        mutate: addTokenRole({ orphan: false, renewable: true }),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "token role added with tokenTtl 1h but tokenExplicitMaxTtl 90 days",
        needs: ROLE,
        mutate: addTokenRole({ tokenTtl: 3600, tokenMaxTtl: 14400, tokenExplicitMaxTtl: 7776000 }),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "token role added that also allows the default policy",
        needs: ROLE,
        mutate: addTokenRole({ allowedPolicies: ["bonito-metrics", "default"], tokenTtl: 900, tokenMaxTtl: 3600 }),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "neighbour: token role added as strict as the AppRoles (15 min, 1h max, not orphan, no period)",
        needs: ROLE,
        expect: "pass",
        mutate: addTokenRole({ orphan: false, renewable: true, tokenTtl: 900, tokenMaxTtl: 3600 }),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "neighbour: metrics AppRole tokens shortened to 5 minutes (30 min max)",
        needs: ROLE,
        expect: "pass",
        mutate: (rs) => (Object.assign(metricsRole(rs).props, { tokenTtl: 300, tokenMaxTtl: 1800 }), true),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "backend's tokens bound to the clients' range (approleTokenBoundCidrs), the metrics AppRole left unbound",
        needs: ROLE,
        mutate: (rs) => {
            appRole(rs, "bonito-backend").props.tokenBoundCidrs = ["10.20.0.0/16"];
            return true;
        },
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "backend bound; metrics AppRole tokens bound but its secret ID usable from anywhere",
        needs: ROLE,
        mutate: (rs) => {
            appRole(rs, "bonito-backend").props.tokenBoundCidrs = ["10.20.0.0/16"];
            Object.assign(metricsRole(rs).props, { tokenBoundCidrs: ["10.30.0.0/24"], secretIdBoundCidrs: [] });
            return true;
        },
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "metrics AppRole bound to 0.0.0.0/0",
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.tokenBoundCidrs = ["0.0.0.0/0"]), true),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "metrics AppRole secret ID bound to 0.0.0.0/1 (half the internet: anyone in disguise)",
        needs: ROLE,
        mutate: (rs) => ((metricsRole(rs).props.secretIdBoundCidrs = ["0.0.0.0/1"]), true),
    },
    {
        policy: "vault-tokenrole-metrics-least-privilege",
        change: "neighbour: backend's tokens and the metrics identity each bound to their own range",
        needs: ROLE,
        expect: "pass",
        mutate: (rs) => {
            appRole(rs, "bonito-backend").props.tokenBoundCidrs = ["10.20.0.0/16"];
            Object.assign(metricsRole(rs).props, {
                tokenBoundCidrs: ["10.30.0.0/24"],
                secretIdBoundCidrs: ["10.30.0.0/24"],
            });
            return true;
        },
    },
    {
        policy: "vault-policy-metrics-least-privilege",
        change: "metrics policy also reads sys/internal/counters/* (request and entity counts)",
        needs: ROLE,
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-metrics"), (d) => {
                d.path["sys/internal/counters/*"] = { capabilities: ["read"] };
            }),
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: Prometheus's credentials_file pointed at an uploaded static token",
        needs: C,
        bundled: true,
        mutate: (rs) => {
            const prom = byRole(rs, "prometheus");
            (prom.props.uploads as Record<string, unknown>[]).push({
                file: "/etc/prometheus/vault-token",
                content: "hvs.static",
                permissions: "0400",
            });
            return editUpload(prom, "prometheus.yml", (d) => {
                for (const j of d.scrape_configs)
                    if (j.authorization) j.authorization.credentials_file = "/etc/prometheus/vault-token";
            });
        },
    },
    {
        policy: "monitoring-alerting-path",
        change: "bundled: the metrics agent's token volume dropped from Prometheus",
        needs: C,
        bundled: true,
        mutate: (rs) => {
            const prom = byRole(rs, "prometheus");
            prom.props.volumes = (prom.props.volumes as { containerPath: string }[]).filter(
                (v) => v.containerPath !== "/run/bonito-metrics",
            );
            return true;
        },
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "bundled: the metrics agent told tls_skip_verify true",
        needs: C,
        bundled: true,
        mutate: (rs) =>
            editUpload(byRole(rs, "metrics-agent"), "agent.json", (d) => {
                d.vault.tls_skip_verify = true;
            }),
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "bundled: the metrics agent's ca_cert removed (it trusts the image's public CAs)",
        needs: C,
        bundled: true,
        mutate: (rs) =>
            editUpload(byRole(rs, "metrics-agent"), "agent.json", (d) => {
                delete d.vault.ca_cert;
            }),
    },
    {
        policy: "container-runtime-hardened",
        change: "bundled: the metrics agent run as root",
        needs: C,
        bundled: true,
        mutate: (rs) => ((byRole(rs, "metrics-agent").props.user = "0:0"), true),
    },
    {
        policy: "container-runtime-hardened",
        change: "bundled: the metrics agent's secret ID uploaded 0644",
        needs: C,
        bundled: true,
        mutate: (rs) => {
            const up = (byRole(rs, "metrics-agent").props.uploads as Record<string, unknown>[]).find((u) =>
                String(u.file).endsWith("/secret-id"),
            );
            if (!up) return false;
            up.permissions = "0644";
            return true;
        },
    },
    // 2. the admin hand-over role
    {
        policy: "vault-handover-admin-least-privilege",
        change: 'admin role bind_secret_id "false"',
        needs: HANDOVER,
        mutate: (rs) => ((handoverRole(rs).bind_secret_id = "false"), true),
    },
    {
        policy: "vault-handover-admin-least-privilege",
        change: "admin role token_max_ttl 0 (unbounded)",
        needs: HANDOVER,
        mutate: (rs) => ((handoverRole(rs).token_max_ttl = 0), true),
    },
    {
        policy: "vault-handover-admin-least-privilege",
        change: "admin role token_max_ttl removed",
        needs: HANDOVER,
        mutate: (rs) => delete handoverRole(rs).token_max_ttl,
    },
    {
        policy: "vault-handover-admin-least-privilege",
        change: 'admin policy grants sudo on "sys/*"',
        needs: HANDOVER,
        mutate: (rs) =>
            editDoc(first(rs, HANDOVER), (d) => {
                d.path["sys/*"] = { capabilities: ["read", "update", "sudo"] };
            }),
    },
    {
        policy: "vault-handover-admin-least-privilege",
        change: 'admin policy path "*" with every capability',
        needs: HANDOVER,
        mutate: (rs) =>
            editDoc(first(rs, HANDOVER), (d) => {
                d.path["*"] = { capabilities: ["create", "read", "update", "delete", "list", "sudo"] };
            }),
    },
    {
        policy: "vault-handover-admin-least-privilege",
        change: "neighbour: admin policy also manages a socket audit device (sudo on a named path), token_ttl 30m",
        needs: HANDOVER,
        expect: "pass",
        mutate: (rs) => {
            handoverRole(rs).token_ttl = 1800;
            return editDoc(first(rs, HANDOVER), (d) => {
                d.path["sys/audit/socket"] = { capabilities: ["create", "update", "delete", "sudo"] };
            });
        },
    },
    // 3. audit archive: retention, lifecycle, shipper destination, writer identities
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "audit archive lifecycle expires objects after 30 days",
        needs: S3_LIFECYCLE,
        mutate: (rs) => ((lifecycleRule(rs, "audit").expiration = { days: 30 }), true),
    },
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "backup lifecycle expires noncurrent versions after 7 days",
        needs: S3_LIFECYCLE,
        mutate: (rs) => ((lifecycleRule(rs, "backup").noncurrentVersionExpiration = { noncurrentDays: 7 }), true),
    },
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "backup lifecycle expires everything on a fixed date",
        needs: S3_LIFECYCLE,
        mutate: (rs) => ((lifecycleRule(rs, "backup").expiration = { date: "2026-01-01T00:00:00Z" }), true),
    },
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "audit archive Object Lock retention 30 days on prod (below 90)",
        needs: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        mutate: (rs) => (
            (named(rs, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "audit").props.rule = {
                defaultRetention: { mode: "COMPLIANCE", days: 30 },
            }),
            true
        ),
    },
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "gcp audit archive lifecycle Delete at age 7",
        needs: "gcp:storage/bucket:Bucket",
        mutate: (rs) => (
            (named(rs, "gcp:storage/bucket:Bucket", "audit").props.lifecycleRules = [
                { action: { type: "Delete" }, condition: { age: 7 } },
            ]),
            true
        ),
    },
    {
        policy: "backup-bucket-lifecycle-retention",
        change: "neighbour: backup lifecycle keeps objects 400 days (past the retention)",
        needs: S3_LIFECYCLE,
        expect: "pass",
        mutate: (rs) => {
            Object.assign(lifecycleRule(rs, "backup"), {
                expiration: { days: 400 },
                noncurrentVersionExpiration: { noncurrentDays: 400 },
            });
            return true;
        },
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "node 0's audit shipper ships to a bucket the stack does not declare",
        needs: "aws:s3/bucket:Bucket",
        mutate: (rs) =>
            editScript(shippers(rs)[0], (s) => s.replace(/DEST=audit:[^/\s']+/, "DEST=audit:acme-audit-logs")),
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "node 1's audit shipper rclone remote switched to type local (a folder, not an archive)",
        needs: "aws:s3/bucket:Bucket",
        mutate: (rs) => editRclone(shippers(rs)[1], (c) => c.replace(/type = s3/, "type = local")),
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "the snapshot uploader writes into the audit archive bucket",
        needs: "aws:s3/bucket:Bucket",
        mutate: (rs) => {
            const backup = bucketName(named(rs, "aws:s3/bucket:Bucket", "backup"));
            const archive = bucketName(named(rs, "aws:s3/bucket:Bucket", "audit"));
            return editScript(byRole(rs, "snapshot-uploader"), (s) => s.split(backup).join(archive));
        },
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "azure: node 0's audit shipper ships to a container the archive account does not declare",
        needs: "azure-native:storage:BlobContainer",
        mutate: (rs) => editScript(shippers(rs)[0], (s) => s.replace(/DEST=audit:audit\//, "DEST=audit:logs/")),
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "neighbour: node 0's audit shipper writes under another folder of the archive",
        needs: "aws:s3/bucket:Bucket",
        expect: "pass",
        mutate: (rs) =>
            editScript(shippers(rs)[0], (s) => s.replace(/(DEST=audit:[^/\s']+)\/vault-0/, "$1/nodes/vault-0")),
    },
    {
        policy: "backup-writer-no-delete",
        change: "audit archive writer may change the bucket's encryption (s3:PutEncryptionConfiguration)",
        needs: "aws:iam/userPolicy:UserPolicy",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "s3:PutEncryptionConfiguration"]), "audit"),
    },
    {
        policy: "backup-writer-no-delete",
        change: "backup writer may rewrite the bucket ACL (s3:PutBucketAcl)",
        needs: "aws:iam/userPolicy:UserPolicy",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "s3:PutBucketAcl"]), "backup-bucket"),
    },
    {
        policy: "backup-writer-no-delete",
        change: "gcp: the project custom role also updates buckets (storage.buckets.update)",
        needs: "gcp:projects/iAMCustomRole:IAMCustomRole",
        mutate: (rs) => (
            (first(rs, "gcp:projects/iAMCustomRole:IAMCustomRole").props.permissions as string[]).push(
                "storage.buckets.update",
            ),
            true
        ),
    },
    {
        policy: "backup-writer-no-delete",
        change: "neighbour: backup writer may also read objects back (s3:GetObject)",
        needs: "aws:iam/userPolicy:UserPolicy",
        expect: "pass",
        mutate: editIam((s) => (s.Action = [...[s.Action].flat(), "s3:GetObject"]), "backup-bucket"),
    },
    // 4. file audit device options
    {
        policy: "vault-audit-device-options",
        change: 'file audit device mode "0644"',
        needs: AUDIT,
        mutate: (rs) => ((auditOptions(rs, "file").mode = "0644"), true),
    },
    {
        policy: "vault-audit-device-options",
        change: 'file audit device file_path "stdout"',
        needs: AUDIT,
        mutate: (rs) => ((auditOptions(rs, "file").file_path = "stdout"), true),
    },
    {
        policy: "vault-audit-device-options",
        change: 'file audit device file_path "discard"',
        needs: AUDIT,
        mutate: (rs) => ((auditOptions(rs, "file").file_path = "discard"), true),
    },
    {
        policy: "vault-audit-device-options",
        change: 'syslog device elide_list_responses "true"',
        needs: AUDIT,
        mutate: (rs) => ((auditOptions(rs, "syslog").elide_list_responses = "true"), true),
    },
    {
        policy: "vault-audit-device-options",
        change: "KV mount exempts request key `value` from HMAC (auditNonHmacRequestKeys)",
        needs: MOUNT,
        mutate: set(MOUNT, "auditNonHmacRequestKeys", ["value"]),
    },
    {
        policy: "vault-audit-device-options",
        change: 'neighbour: file audit device mode "0400" (stricter)',
        needs: AUDIT,
        expect: "pass",
        mutate: (rs) => ((auditOptions(rs, "file").mode = "0400"), true),
    },
    // 5. entry point
    {
        policy: "vault-entry-point-health-checked",
        change: 'aws health check matcher "200-599" (sealed and uninitialised count as healthy)',
        needs: TG,
        mutate: editAwsHealth((hc) => (hc.matcher = "200-599")),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "aws health check matcher removed (AWS's default 200-399)",
        needs: TG,
        mutate: editAwsHealth((hc) => delete hc.matcher),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "health path with sealedcode=200",
        needs: TG,
        mutate: editAwsHealth((hc) => (hc.path = `${String(hc.path)}&sealedcode=200`)),
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "gcp health path with uninitcode=200",
        needs: GHC,
        mutate: (rs) => {
            const hc = first(rs, GHC).props.httpsHealthCheck as Record<string, any>;
            hc.requestPath = `${String(hc.requestPath)}&uninitcode=200`;
            return true;
        },
    },
    {
        policy: "vault-entry-point-health-checked",
        change: "neighbour: aws health check every 30 s with 3 checks to flip",
        needs: TG,
        expect: "pass",
        mutate: editAwsHealth((hc) => Object.assign(hc, { interval: 30, healthyThreshold: 3, unhealthyThreshold: 3 })),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "aws client ingress from 0.0.0.0/1 (half the internet)",
        needs: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        mutate: set("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cidrIpv4", "0.0.0.0/1"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "aws client ingress from 10.0.0.0/7",
        needs: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        mutate: set("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cidrIpv4", "10.0.0.0/7"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "aws client ingress from IPv6 2000::/3",
        needs: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        mutate: (rs) => {
            const r = first(rs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
            unset(r, "cidrIpv4");
            r.props.cidrIpv6 = "2000::/3";
            return true;
        },
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "gcp client firewall sourceRanges 0.0.0.0/1 and 128.0.0.0/1",
        needs: GFW,
        mutate: (rs) => ((clientFirewall(rs).props.sourceRanges = ["0.0.0.0/1", "128.0.0.0/1"]), true),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "prod aws load balancer internal false (internet-facing)",
        needs: NLB,
        mutate: set(NLB, "internal", false),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "prod aws load balancer internal removed (AWS's default is internet-facing)",
        needs: NLB,
        mutate: (rs) => unset(first(rs, NLB), "internal"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "prod gcp forwarding rule scheme EXTERNAL",
        needs: "gcp:compute/forwardingRule:ForwardingRule",
        mutate: set("gcp:compute/forwardingRule:ForwardingRule", "loadBalancingScheme", "EXTERNAL"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "neighbour: clients from 10.0.0.0/8 (a short but private range)",
        needs: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        expect: "pass",
        mutate: set("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cidrIpv4", "10.0.0.0/8"),
    },
    {
        policy: "vault-entry-point-client-allow-list",
        change: "neighbour: internet-facing aws load balancer the stack states (entryPointInternetFacing)",
        needs: NLB,
        expect: "pass",
        mutate: (rs) => {
            first(rs, NLB).props.internal = false;
            for (const s of rs.filter(isServer))
                (s.props.labels as { label: string; value: string }[]).push({
                    label: "bonito.entry-point-internet-facing",
                    value: "stated",
                });
            return true;
        },
    },
    // 6. snapshot path
    {
        policy: "container-vault-client-tls-verified",
        change: "snapshot agent with VAULT_SKIP_VERIFY=true",
        needs: C,
        mutate: (rs) => ((byRole(rs, "snapshot-agent").props.envs as string[]).push("VAULT_SKIP_VERIFY=true"), true),
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "snapshot agent without VAULT_CACERT",
        needs: C,
        mutate: (rs) => {
            const a = byRole(rs, "snapshot-agent");
            a.props.envs = (a.props.envs as string[]).filter((e) => !e.startsWith("VAULT_CACERT="));
            return true;
        },
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "snapshot agent's config calls the nodes over http://",
        needs: C,
        mutate: (rs) =>
            editUpload(byRole(rs, "snapshot-agent"), "snapshots.json", (d) => {
                d.vault.nodes.urls = d.vault.nodes.urls.map((u: string) => u.replace("https://", "http://"));
            }),
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "snapshot agent's VAULT_CACERT names a CA file it does not receive",
        needs: C,
        mutate: (rs) => {
            const a = byRole(rs, "snapshot-agent");
            a.props.envs = (a.props.envs as string[]).map((e) =>
                e.startsWith("VAULT_CACERT=") ? "VAULT_CACERT=/etc/ssl/certs/ca-certificates.crt" : e,
            );
            return true;
        },
    },
    {
        policy: "container-vault-client-tls-verified",
        change: "neighbour: snapshot agent's VAULT_CACERT names its other uploaded copy of the stack's CA",
        needs: C,
        expect: "pass",
        mutate: (rs) => {
            const a = byRole(rs, "snapshot-agent");
            a.props.envs = (a.props.envs as string[]).map((e) =>
                e.startsWith("VAULT_CACERT=") ? "VAULT_CACERT=/tmp/certs/vault-ca.crt" : e,
            );
            return true;
        },
    },
    {
        policy: "vault-policy-snapshot-agent-least-privilege",
        change: "snapshot agent's AppRole also carries bonito-backend",
        needs: ROLE,
        mutate: (rs) => ((appRole(rs, "snapshot-agent").props.tokenPolicies as string[]).push("bonito-backend"), true),
    },
    {
        policy: "vault-policy-snapshot-agent-least-privilege",
        change: "snapshot agent's AppRole token_policies [default, snapshot-agent]",
        needs: ROLE,
        mutate: (rs) => ((appRole(rs, "snapshot-agent").props.tokenPolicies = ["default", "snapshot-agent"]), true),
    },
    {
        policy: "vault-policy-snapshot-agent-least-privilege",
        change: "neighbour: snapshot agent's AppRole drops the default policy (tokenNoDefaultPolicy)",
        needs: ROLE,
        expect: "pass",
        mutate: (rs) => ((appRole(rs, "snapshot-agent").props.tokenNoDefaultPolicy = true), true),
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "the snapshot uploader's destination renamed to a bucket the stack does not declare",
        needs: "aws:s3/bucket:Bucket",
        mutate: (rs) => {
            const backup = bucketName(named(rs, "aws:s3/bucket:Bucket", "backup"));
            return editScript(byRole(rs, "snapshot-uploader"), (s) => s.split(backup).join("acme-vault-snapshots"));
        },
    },
    {
        policy: "backup-sidecar-destination-declared",
        change: "gcp: the snapshot uploader writes to an undeclared bucket",
        needs: "gcp:storage/bucket:Bucket",
        mutate: (rs) => {
            const backup = bucketName(named(rs, "gcp:storage/bucket:Bucket", "backup"));
            return editScript(byRole(rs, "snapshot-uploader"), (s) => s.split(backup).join("acme-vault-snapshots"));
        },
    },
    // 7. TLS material
    {
        policy: "tls-certificate-limits",
        change: "node certificate valid 10 years on prod",
        needs: LSC,
        mutate: set(LSC, "validityPeriodHours", 87600),
    },
    {
        policy: "tls-certificate-limits",
        change: "node certificate may sign certificates (cert_signing)",
        needs: LSC,
        mutate: (rs) => ((first(rs, LSC).props.allowedUses as string[]).push("cert_signing"), true),
    },
    {
        policy: "tls-certificate-limits",
        change: "node certificate marked isCaCertificate",
        needs: LSC,
        mutate: set(LSC, "isCaCertificate", true),
    },
    {
        policy: "tls-certificate-limits",
        change: "CA key RSA 1024",
        needs: TLS_KEY,
        mutate: (rs) => {
            Object.assign(named(rs, TLS_KEY, "ca-key").props, { algorithm: "RSA", rsaBits: 1024 });
            return unset(named(rs, TLS_KEY, "ca-key"), "ecdsaCurve");
        },
    },
    {
        policy: "tls-certificate-limits",
        change: "node key ecdsaCurve removed (the provider's P224)",
        needs: TLS_KEY,
        mutate: (rs) => unset(named(rs, TLS_KEY, "vault-0-key"), "ecdsaCurve"),
    },
    {
        policy: "tls-certificate-limits",
        change: "CA valid 100 years",
        needs: "tls:index/selfSignedCert:SelfSignedCert",
        mutate: set("tls:index/selfSignedCert:SelfSignedCert", "validityPeriodHours", 876000),
    },
    {
        policy: "tls-certificate-limits",
        change: "neighbour: node key on P384 and node certificates valid 90 days",
        needs: LSC,
        expect: "pass",
        mutate: (rs) => {
            named(rs, TLS_KEY, "vault-0-key").props.ecdsaCurve = "P384";
            first(rs, LSC).props.validityPeriodHours = 2160;
            return true;
        },
    },
    // 8. cipher suites
    {
        policy: "vault-listener-tls-cipher-suites",
        change: "API listener on tls12 with a CBC suite",
        needs: C,
        mutate: editConfig((c) =>
            Object.assign(c.listener[0].tcp, {
                tls_min_version: "tls12",
                tls_cipher_suites: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            }),
        ),
    },
    {
        policy: "vault-listener-tls-cipher-suites",
        change: "join listener min version removed (tls12) with static-RSA and 3DES suites as a list",
        needs: C,
        mutate: editConfig((c) => {
            delete c.listener[1].tcp.tls_min_version;
            c.listener[1].tcp.tls_cipher_suites = ["TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"];
        }),
    },
    {
        policy: "vault-listener-tls-cipher-suites",
        change: "neighbour: API listener on tls12 with only ECDHE AEAD suites",
        needs: C,
        expect: "pass",
        mutate: editConfig((c) =>
            Object.assign(c.listener[0].tcp, {
                tls_min_version: "tls12",
                tls_cipher_suites:
                    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
            }),
        ),
    },
    // 9. containers' run-time settings
    {
        policy: "container-runtime-hardened",
        change: "node 0 with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment",
        needs: C,
        mutate: (rs) => {
            (server(rs).props.envs as string[]).push(
                "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            );
            return true;
        },
    },
    {
        policy: "container-runtime-hardened",
        change: "snapshot uploader given the writer's secret key as an rclone variable (a Pulumi secret)",
        needs: C,
        mutate: (rs) => (
            (byRole(rs, "snapshot-uploader").props.envs = [
                secret("RCLONE_CONFIG_SNAPSHOTS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"),
            ]),
            true
        ),
    },
    {
        policy: "container-runtime-hardened",
        change: 'snapshot agent restart "on-failure"',
        needs: C,
        mutate: (rs) => ((byRole(rs, "snapshot-agent").props.restart = "on-failure"), true),
    },
    {
        policy: "container-runtime-hardened",
        change: "node 1's audit shipper without a restart policy (Docker's no)",
        needs: C,
        mutate: (rs) => unset(shippers(rs)[1], "restart"),
    },
    {
        policy: "container-runtime-hardened",
        change: 'node 0 logDriver "none"',
        needs: C,
        mutate: setOnNode0("logDriver", "none"),
    },
    {
        policy: "container-runtime-hardened",
        change: 'node 0\'s audit shipper user "0:0"',
        needs: C,
        mutate: (rs) => ((shippers(rs)[0].props.user = "0:0"), true),
    },
    {
        policy: "container-runtime-hardened",
        // NodeTls writes the key 0400 (its mode is code, not an input); this is the upload it replaced.
        change: "node 0 given its TLS key back as an upload, mode 0644",
        needs: C,
        mutate: (rs) => {
            (server(rs).props.uploads as Record<string, unknown>[]).push({
                file: "/vault/tls/node-key.pem",
                content: "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n",
                permissions: "0644",
            });
            return true;
        },
    },
    {
        policy: "container-runtime-hardened",
        change: "snapshot agent's secret id uploaded without permissions (Docker's 0644)",
        needs: C,
        mutate: (rs) => {
            const up = (byRole(rs, "snapshot-agent").props.uploads as { file: string; permissions?: string }[]).find(
                (u) => u.file.endsWith("approle-secret-id"),
            )!;
            delete up.permissions;
            return true;
        },
    },
    {
        policy: "container-runtime-hardened",
        change: 'neighbour: node 0 with AWS_REGION in its environment, a key uploaded 0600, restart "always"',
        needs: C,
        expect: "pass",
        mutate: (rs) => {
            const n = server(rs);
            (n.props.envs as string[]).push("AWS_REGION=us-east-1");
            n.props.restart = "always";
            (n.props.uploads as Record<string, unknown>[]).push({
                file: "/vault/tls/node-key.pem",
                content: "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n",
                permissions: "0600",
            });
            return true;
        },
    },
    // 10. KMS key policy: only the declared unseal identity uses the unseal key
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: "unseal key policy: the Vault statement also names another role of the same account",
        needs: KEY,
        mutate: (rs) =>
            editDoc(named(rs, KEY, "unseal"), (d) => {
                const p = d.Statement[1].Principal.AWS;
                d.Statement[1].Principal = { AWS: [p, "arn:aws:iam::123456789012:role/ops-break-glass"].flat() };
            }),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: "unseal key policy: a statement lets the account root decrypt",
        needs: KEY,
        mutate: (rs) =>
            editDoc(named(rs, KEY, "unseal"), (d) => {
                d.Statement.push({
                    Sid: "AccountDecrypts",
                    Effect: "Allow",
                    Principal: { AWS: "arn:aws:iam::123456789012:root" },
                    Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                    Resource: "*",
                });
            }),
    },
    {
        policy: "aws-kms-key-policy-least-privilege",
        change: "neighbour: unseal key policy lets an auditor role describe the key and read its policy",
        needs: KEY,
        expect: "pass",
        mutate: (rs) =>
            editDoc(named(rs, KEY, "unseal"), (d) => {
                d.Statement.push({
                    Sid: "AuditorsDescribe",
                    Effect: "Allow",
                    Principal: { AWS: "arn:aws:iam::123456789012:role/auditor" },
                    Action: ["kms:DescribeKey", "kms:GetKeyPolicy"],
                    Resource: "*",
                });
            }),
    },
    // 11. Vault settings
    {
        policy: "vault-settings-hardened",
        change: 'KV mount options.version "1"',
        needs: MOUNT,
        mutate: set(MOUNT, "options", { version: "1" }),
    },
    {
        policy: "vault-settings-hardened",
        change: "KV mount options removed (KV v1)",
        needs: MOUNT,
        mutate: (rs) => unset(first(rs, MOUNT), "options"),
    },
    {
        policy: "vault-settings-hardened",
        change: "prod initialised without recovery PGP keys",
        needs: INIT,
        mutate: set(INIT, "recoveryPgpKeys", []),
    },
    {
        policy: "vault-settings-hardened",
        change: "prod recoveryThreshold 1",
        needs: INIT,
        mutate: set(INIT, "recoveryThreshold", 1),
    },
    {
        policy: "vault-settings-hardened",
        change: 'max_lease_ttl "8760h"',
        needs: C,
        mutate: editConfig((c) => (c.max_lease_ttl = "8760h")),
    },
    {
        policy: "vault-settings-hardened",
        change: "max_lease_ttl removed (Vault's 768h)",
        needs: C,
        mutate: editConfig((c) => delete c.max_lease_ttl),
    },
    {
        policy: "vault-settings-hardened",
        change: "api_addr over http while the listener serves TLS",
        needs: C,
        mutate: editConfig((c) => (c.api_addr = String(c.api_addr).replace("https://", "http://"))),
    },
    {
        policy: "vault-settings-hardened",
        change: "cluster_addr over http",
        needs: C,
        mutate: editConfig((c) => (c.cluster_addr = String(c.cluster_addr).replace("https://", "http://"))),
    },
    {
        policy: "vault-settings-hardened",
        change: 'neighbour: max_lease_ttl "72h" and the KV mount declared as type kv-v2',
        needs: MOUNT,
        expect: "pass",
        mutate: (rs) => {
            first(rs, MOUNT).props.type = "kv-v2";
            unset(first(rs, MOUNT), "options");
            return editConfig((c) => (c.max_lease_ttl = "72h"))(rs);
        },
    },
    // The migration identity, on the prod stack during a migration (mutations-migration.test.ts).
    {
        policy: "vault-policy-migration-least-privilege",
        change: "migration policy may also write policies (sys/policies/acl/*)",
        needs: "vault:index/policy:Policy",
        migration: true,
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-migration"), (d) => {
                d.path["sys/policies/acl/*"] = { capabilities: ["create", "update"] };
            }),
    },
    {
        policy: "vault-policy-migration-least-privilege",
        change: "migration policy widened to the whole mount (bonito/*)",
        needs: "vault:index/policy:Policy",
        migration: true,
        mutate: (rs) =>
            editDoc(vaultPolicy(rs, "bonito-migration"), (d) => {
                d.path["bonito/*"] = { capabilities: ["create", "read", "update", "delete", "list"] };
            }),
    },
    {
        policy: "vault-policy-migration-least-privilege",
        change: "migration secret ID made permanent (secretIdTtl 0)",
        needs: ROLE,
        migration: true,
        mutate: (rs) => ((migrationRole(rs).props.secretIdTtl = 0), true),
    },
    {
        policy: "vault-policy-migration-least-privilege",
        change: "migration role also gives the backend's policy",
        needs: ROLE,
        migration: true,
        mutate: (rs) => ((migrationRole(rs).props.tokenPolicies = ["bonito-migration", "bonito-backend"]), true),
    },
    {
        policy: "vault-policy-migration-least-privilege",
        change: "neighbour: a 1h window (secretIdTtl 3600) and the default policy beside the migration policy",
        needs: ROLE,
        migration: true,
        expect: "pass",
        mutate: (rs) => {
            migrationRole(rs).props.secretIdTtl = 3600;
            migrationRole(rs).props.tokenPolicies = ["bonito-migration", "default"];
            return true;
        },
    },
];

/**
 * The table over the committed stack, with optional config overrides (the other clouds' rows run
 * with `cloud` overridden in mutations-<cloud>.test.ts).
 */
export function describeMutations(
    overrides: Record<string, string> = {},
    opts: { secretKeys?: string[]; only?: (policy: string) => boolean } = {},
): void {
    describe(`mutation table on the committed ${SOURCE} stack ${JSON.stringify(overrides)}`, () => {
        let base: TestResource[] = [];
        let baseline: Map<string, string[]> = new Map();
        before(async () => {
            base = await declaredResources(SOURCE, overrides, opts.secretKeys);
            baseline = (await runPack(POLICIES, base, JUDGED_AS)).violations;
        });
        it("has rows for every validating policy and for no other name", () => {
            const names = POLICIES.filter((p) => p.enforcementLevel !== "remediate").map((p) => p.name);
            assert.deepEqual([...new Set(ROWS.map((r) => r.policy))].sort(), names.sort());
        });
        it("has at least two rows (two different ways to defeat it) for every validating policy", () => {
            const count = new Map<string, number>();
            for (const r of ROWS.filter((x) => x.expect !== "pass"))
                count.set(r.policy, (count.get(r.policy) ?? 0) + 1);
            assert.deepEqual(
                [...count].filter(([, n]) => n < 2).map(([p]) => p),
                [],
            );
        });
        // Rows for another cloud's resources run in mutations-<cloud>.test.ts.
        const cloud = overrides.cloud ?? "aws";
        const bundled = overrides.monitoring === "bundled";
        const migration = overrides.migrationWindow !== undefined;
        const rows = ROWS.filter((r) => {
            if (!!r.bundled !== bundled && r.bundled) return false;
            if (!migration && r.migration) return false;
            if (opts.only && !opts.only(r.policy)) return false;
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
                // Only the row's rule decides the row (rules are independent); the whole pack runs
                // again only to say what else reported a change its rule missed.
                const own = POLICIES.filter((p) => p.name === row.policy);
                const { violations } = await runPack(own, rs, JUDGED_AS);
                if (row.expect === "pass")
                    assert.ok(
                        !violations.has(row.policy),
                        `a legitimate variant was flagged: ${JSON.stringify(violations.get(row.policy))}`,
                    );
                else if (!violations.has(row.policy)) {
                    const all = (await runPack(POLICIES, rs, JUDGED_AS)).violations;
                    assert.fail(`not caught; violations were ${JSON.stringify(Object.fromEntries(all))}`);
                }
            });
        }
    });
}
