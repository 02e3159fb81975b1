/**
 * Pulumi mock runtime for component and whole-stack tests.
 *
 * What this proves: which resources the program declares and with exactly which inputs. What it
 * does not prove: that a provider or Vault accepts them (the mock echoes inputs back as state).
 * Pitfalls handled here: config is set before the program is imported; `await settle()` waits for
 * every registration; the mock ignores `additionalSecretOutputs`, so secrecy is checked on values
 * the program wraps with `pulumi.secret` itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { hashSync } from "bcryptjs";
import { outputState } from "../../components/sdkInternals";

export interface Recorded {
    type: string;
    name: string;
    urn: string;
    id: string;
    /** Inputs with secret wrappers removed. */
    inputs: Record<string, unknown>;
    /** Inputs as the engine saw them: secrets wrapped in Pulumi's secret signature. */
    rawInputs: Record<string, unknown>;
    provider?: string;
}

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts specialSigKey/specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when the mock received this input value as a secret. */
export function isSecretInput(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Remove every secret wrapper, recursively. */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretInput(v)) return unwrapSecrets((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

export interface Invoked {
    token: string;
    inputs: Record<string, unknown>;
}

/**
 * What only the mock runtime makes up (fakeState below, the invoke results in setupMocks, and each
 * resource's id, `${name}-id`, matched separately): `npm run render` marks every output value that
 * holds one as a placeholder. Keep it in step with fakeState.
 */
export const MOCK_PLACEHOLDERS: readonly RegExp[] = [
    /123456789012/, // the AWS account
    /\bMOCK-|\bmock-|AIDAMOCK/, // PEMs, tokens, secret ids, the GCP project
    /\b(PUBLIC|CSR)-/,
    /-0123456789\.elb\./, // the load balancer's DNS name
    /Z26RNL4JYFTOTI/,
    /sha256:(0{64}|1{64})/, // image id and repo digest
    /00000000-0000-0000-0000-0000000000[0-9a-f]{2}|00000000-0000-0000-0000-00000000(aaaa|cccc)/, // Azure ids
    /\b10\.0\.(8\.8|9\.9)\b/, // the GCP and Azure load balancers' addresses
    /-key-id\b/,
];

/** Whether `text` holds something the mock runtime made up: a {@link MOCK_PLACEHOLDERS} match or a resource id. */
export function holdsMockPlaceholder(text: string, resourceIds: readonly string[]): boolean {
    return MOCK_PLACEHOLDERS.some((r) => r.test(text)) || resourceIds.some((id) => text.includes(id));
}

/** Provider outputs a real `up` would return that the program reads back; everything else echoes inputs. */
function fakeState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: `-----BEGIN PRIVATE KEY-----\nMOCK-${name}\n-----END PRIVATE KEY-----\n`,
                publicKeyPem: `PUBLIC-${name}`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return {
                certPem: `-----BEGIN CERTIFICATE-----\nMOCK-${name}\n-----END CERTIFICATE-----\n`,
                validityEndTime: "2027-11-30T12:00:00Z",
            };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: `CSR-${name}` };
        case "docker:index/network:Network":
        case "docker:index/volume:Volume":
            return { name: inputs.name ?? name };
        case "docker:index/remoteImage:RemoteImage":
            return {
                imageId: `sha256:${"0".repeat(64)}`,
                repoDigest: `${String(inputs.name)}@sha256:${"1".repeat(64)}`,
            };
        case "aws:kms/key:Key":
            return { arn: `arn:aws:kms:us-east-1:123456789012:key/${name}`, keyId: `${name}-key-id` };
        case "aws:iam/role:Role":
        case "aws:iam/user:User":
        case "aws:iam/policy:Policy":
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2":
            return {
                arn: `arn:aws:${type.startsWith("aws:s3") ? "s3" : "iam"}::123456789012:${name}`,
                bucket: inputs.bucket ?? name,
            };
        case "aws:lb/loadBalancer:LoadBalancer":
            return {
                arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/${name}`,
                dnsName: `${String(inputs.name ?? name)}-0123456789.elb.us-east-1.amazonaws.com`,
                zoneId: "Z26RNL4JYFTOTI",
            };
        case "aws:lb/targetGroup:TargetGroup":
            return { arn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}` };
        case "aws:ec2/securityGroup:SecurityGroup":
            return { arn: `arn:aws:ec2:us-east-1:123456789012:security-group/${name}` };
        case "aws:route53/record:Record":
            return { fqdn: String(inputs.name) };
        case "gcp:compute/forwardingRule:ForwardingRule":
            return { ipAddress: "10.0.9.9" };
        case "gcp:compute/networkEndpointGroup:NetworkEndpointGroup":
            return { name: inputs.name ?? name };
        case "azure-native:network:LoadBalancer":
            return {
                frontendIPConfigurations: ((inputs.frontendIPConfigurations ?? []) as Record<string, unknown>[]).map(
                    (f) => ({ ...f, privateIPAddress: "10.0.8.8" }),
                ),
            };
        case "azure-native:privatedns:PrivateRecordSet":
            return { fqdn: `${String(inputs.relativeRecordSetName)}.${String(inputs.privateZoneName)}.` };
        case "azure-native:network:NetworkSecurityGroup":
            return { name: inputs.networkSecurityGroupName ?? name };
        case "aws:iam/accessKey:AccessKey":
            return { secret: `mock-secret-${name}` };
        case "gcp:serviceaccount/account:Account":
            return {
                email: `${String(inputs.accountId)}@mock-project.iam.gserviceaccount.com`,
                member: `serviceAccount:${String(inputs.accountId)}@mock-project.iam.gserviceaccount.com`,
            };
        case "gcp:serviceaccount/key:Key":
            return { privateKey: Buffer.from(`{"mock":"${name}"}`).toString("base64") };
        case "azure-native:managedidentity:UserAssignedIdentity":
            return {
                principalId: "00000000-0000-0000-0000-00000000aaaa",
                clientId: "00000000-0000-0000-0000-00000000cccc",
                tenantId: "00000000-0000-0000-0000-0000000000d1",
            };
        case "pulumi:pulumi:StackReference": {
            // The referenced stack "deployed" exactly what its committed stack file pins.
            const ref = String(inputs.name).split("/").pop();
            return { outputs: { verifiedImage: committedImage(ref ?? ""), verifiedCommit: "" } };
        }
        case "gcp:storage/bucket:Bucket":
            return { name: inputs.name ?? `${name}-bucket`, url: `gs://${String(inputs.name ?? `${name}-bucket`)}` };
        case "azure-native:storage:StorageAccount":
            // azure-native's autoname: the logical name plus random hex, not cleaned or cut
            // (pulumi-azure-native#3665, #4294); Azure itself refuses such a name. The hex is derived
            // from the name here, so that the census (test/census) is the same on every run.
            return {
                name: inputs.accountName ?? `${name}${createHash("sha256").update(name).digest("hex").slice(0, 8)}`,
            };
        case "vault:appRole/authBackendRole:AuthBackendRole":
            return { roleId: `mock-role-id-${name}` };
        case "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId":
            return {
                secretId: `mock-secret-id-${name}`,
                accessor: `mock-accessor-${name}`,
                ...(inputs.wrappingTtl
                    ? { wrappingToken: `mock-wrapping-token-${name}`, wrappingAccessor: "mock-wa" }
                    : {}),
            };
        default:
            if (type.endsWith(":VaultInit"))
                return {
                    rootToken: "mock-root-token",
                    recoveryKeys: ["mock-recovery-1"],
                    recoveryKeysEncrypted: false,
                    adopted: false,
                };
            if (type.endsWith(":VaultHandover"))
                return { roleId: "mock-admin-role-id", secretId: "mock-admin-secret-id" };
            if (type.endsWith(":RollCredential"))
                return { roleId: "mock-rolling-role-id", secretId: "mock-rolling-secret-id" };
            if (type.endsWith(":RollCheck")) return { failureTolerance: 1, activeBefore: "vault-0", checked: "mock" };
            if (type.endsWith(":AlertmanagerWebCredentials"))
                return { password: MOCK_ALERTMANAGER_PASSWORD, passwordHash: MOCK_ALERTMANAGER_HASH };
            if (type.endsWith(":UnsealerInit"))
                return { unsealKey: "mock-unsealer-key", transitToken: "mock-transit-token" };
            return {};
    }
}

/**
 * What AlertmanagerWebCredentials "creates" under mocks: a fixed password and its bcrypt hash with a
 * fixed salt (the real provider salts at random), so the census stays the same on every run and the
 * Docker tier's real Alertmanager checks the real Prometheus's password against a real hash.
 */
export const MOCK_ALERTMANAGER_PASSWORD = "mock-alertmanager-password";
export const MOCK_ALERTMANAGER_HASH = hashSync(MOCK_ALERTMANAGER_PASSWORD, "$2b$10$bonitomockalertmanager");

/** The `image` a committed stack file pins (what a deployed stack of that name would export). */
function committedImage(stack: string): string | undefined {
    const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) return undefined;
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    return doc.config?.["bonito-vault:image"] as string | undefined;
}

/**
 * Optional timing for the mock engine: a per-resource delay before its registration answers (the
 * time a real create or update takes), and an event log in the order the engine saw things.
 */
export interface MockTiming {
    delayMs?: (type: string, name: string) => number;
    events?: { at: "registered" | "done"; name: string; type: string }[];
}

export interface MockRun {
    resources: Recorded[];
    invokes: Invoked[];
    /** Resources of one type token. */
    ofType(type: string): Recorded[];
    /** The one resource with this logical name (throws when there is none or more). */
    byName(name: string): Recorded;
}

/**
 * Install mocks and config. Call before importing anything that reads config or declares resources.
 * @param config full keys (`bonito-vault:nodes`) → string values
 */
export function setupMocks(
    stack: string,
    config: Record<string, string>,
    secretKeys: string[] = [],
    timing: MockTiming = {},
): MockRun {
    const resources: Recorded[] = [];
    const invokes: Invoked[] = [];
    pulumi.runtime.setAllConfig(config, secretKeys);
    pulumi.runtime.setMocks(
        {
            async newResource(args: pulumi.runtime.MockResourceArgs) {
                timing.events?.push({ at: "registered", name: args.name, type: args.type });
                const delay = timing.delayMs?.(args.type, args.name) ?? 0;
                if (delay > 0) await new Promise((r) => setTimeout(r, delay));
                timing.events?.push({ at: "done", name: args.name, type: args.type });
                const id = `${args.name}-id`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    urn: `urn:pulumi:mock::bonito-vault::${args.type}::${args.name}`,
                    id,
                    inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
                    rawInputs: args.inputs,
                    provider: args.provider,
                });
                const plain = unwrapSecrets(args.inputs) as Record<string, unknown>;
                return { id, state: { ...args.inputs, ...fakeState(args.type, args.name, plain) } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                invokes.push({ token: args.token, inputs: args.inputs });
                switch (args.token) {
                    case "aws:index/getCallerIdentity:getCallerIdentity":
                        return {
                            accountId: "123456789012",
                            arn: "arn:aws:iam::123456789012:user/ci",
                            userId: "AIDAMOCK",
                        };
                    case "aws:index/getRegion:getRegion":
                        return { name: "us-east-1", region: "us-east-1" };
                    case "aws:index/getPartition:getPartition":
                        return { partition: "aws" };
                    case "azure-native:authorization:getClientConfig":
                        return {
                            clientId: "00000000-0000-0000-0000-0000000000c1",
                            objectId: "00000000-0000-0000-0000-0000000000b1",
                            subscriptionId: "00000000-0000-0000-0000-0000000000a1",
                            tenantId: "00000000-0000-0000-0000-0000000000d1",
                        };
                    case "gcp:organizations/getProject:getProject":
                        return { projectId: "mock-project", number: "123456" };
                    default:
                        return args.inputs;
                }
            },
        },
        "bonito-vault",
        stack,
        true,
    );
    return {
        resources,
        invokes,
        ofType: (type) => resources.filter((r) => r.type === type),
        byName(name) {
            const hits = resources.filter((r) => r.name === name);
            if (hits.length !== 1) throw new Error(`expected one resource named ${name}, found ${hits.length}`);
            return hits[0];
        },
    };
}

/** The committed stack file's config, with keys as Pulumi passes them (`bonito-vault:nodes`). */
export function stackConfig(stack: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        if (v !== null && typeof v === "object" && "secure" in (v as object)) continue;
        out[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    for (const [k, v] of Object.entries(overrides)) {
        const full = k.includes(":") ? k : `bonito-vault:${k}`;
        if (v === undefined) delete out[full];
        else out[full] = v;
    }
    return out;
}

/**
 * Resolve an Output's value under the mock runtime. An unknown value (a provider output the mock
 * does not fill in) rejects with a clear error instead of leaving a promise that never settles:
 * `apply` never runs on unknowns, and a drained event loop would end the process with exit code 0.
 */
export async function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
    const out = outputState(o);
    if (!(await out.isKnown))
        throw new Error("valueOf: the value is unknown under the mock runtime (add it to fakeState)");
    return out.promise();
}

/** Wait until every resource registration so far has been recorded. */
export async function settle(...resources: pulumi.Resource[]): Promise<void> {
    await Promise.all(resources.map((r) => valueOf(r.urn)));
    // Registrations of children of `resources` are issued before their parent's urn resolves,
    // but the mock's newResource runs asynchronously: give the event loop a few turns.
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Record every child's resource options (protect, retainOnDelete, dependsOn…), which the mock
 * monitor does not see. Pass `transformations` to the component under test.
 */
export function optionRecorder(): {
    transformations: pulumi.ResourceTransformation[];
    opts: Map<string, pulumi.ResourceOptions>;
} {
    const opts = new Map<string, pulumi.ResourceOptions>();
    return {
        opts,
        transformations: [
            (args) => {
                opts.set(args.name, args.opts);
                return undefined;
            },
        ],
    };
}

/**
 * The error an Output was rejected with. Awaits each of the Output's internal promises, so that
 * none is left rejected and unhandled after the test (node:test would report that as a failure).
 */
export async function rejectionOf(o: pulumi.Output<unknown>): Promise<Error> {
    const impl = outputState(o);
    const results = await Promise.allSettled([impl.isKnown, impl.isSecret, impl.allResources?.() ?? Promise.resolve()]);
    const failed = results.find((r) => r.status === "rejected");
    if (!failed) throw new Error("expected the output to be rejected");
    return (failed as PromiseRejectedResult).reason as Error;
}
