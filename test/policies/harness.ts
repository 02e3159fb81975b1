/**
 * Runs policy modules the way the engine does, without the engine.
 *
 * The engine deserialises a resource's properties (secrets unwrapped for validation, wrapped in
 * `Secret` for remediation), wraps them in `unknownCheckingProxy`, and turns an `UnknownValueError`
 * into an advisory "can't run during preview". This harness does the same, from plain props in
 * which a secret is written as the mock runtime records it ({ [sig]: secretSig, value }).
 * `@pulumi/policy` is loaded from where the policy modules load it (policies/node_modules when
 * installed, else the root), so `Secret` is the same class on both sides.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import type {
    Policy,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "../../policies/lib/types";

const requireFromPack = createRequire(path.join(__dirname, "..", "..", "policies", "package.json"));
const sdk = requireFromPack("@pulumi/policy") as {
    Secret: new (v: unknown) => { value: unknown };
    unknownCheckingProxy<T>(o: T): T;
    UnknownValueError: new (...a: never[]) => Error;
};
const secretProxy = (requireFromPack("@pulumi/policy/secret") as { secretsPreservingProxy<T>(o: T): T })
    .secretsPreservingProxy;
export const PolicySecret = sdk.Secret;

/** The wire form of a secret, as `@pulumi/pulumi`'s rpc module writes it and the mock monitor records it. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The engine's sentinel for an unknown string during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A secret in its wire form; fixtures put it where the program would put a `pulumi.secret(...)`. */
export interface WireSecret {
    [SIG_KEY]: typeof SECRET_SIG;
    value: unknown;
}

export function secret(value: unknown): WireSecret {
    return { [SIG_KEY]: SECRET_SIG, value };
}

function isSecretSig(v: unknown): v is { value: unknown } {
    return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Props as the engine hands them to a policy: secrets unwrapped (validation) or wrapped (remediation). */
export function deserialize(v: unknown, keepSecrets: boolean): unknown {
    if (isSecretSig(v)) {
        const inner = deserialize(v.value, keepSecrets);
        return keepSecrets ? new sdk.Secret(inner) : inner;
    }
    if (Array.isArray(v)) return v.map((x) => deserialize(x, keepSecrets));
    if (v !== null && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = deserialize(x, keepSecrets);
        return out;
    }
    return v;
}

export interface TestResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    /** `protect` as the engine passes it in the resource options. */
    protect?: boolean;
    /**
     * The resource's outputs (state), which stack policies see instead of the inputs; defaults to
     * the inputs, which is what the mock returns for most resources.
     */
    outputs?: Record<string, unknown>;
}

export const DEFAULT_STACK = "staging";

export function urnOf(stack: string, r: Pick<TestResource, "type" | "name">): string {
    return `urn:pulumi:${stack}::bonito-vault::${r.type}::${r.name}`;
}

function optsOf(r: TestResource): PolicyResourceOptions {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
}

/** The policy's config as the CLI hands it over: the schema's defaults, then overrides. */
function configOf(p: Policy, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(p.configSchema?.properties ?? {}))
        if (s.default !== undefined) defaults[k] = s.default;
    return { ...defaults, ...overrides };
}

class NotApplicable extends Error {}

export function resourceArgs(
    p: Policy,
    r: TestResource,
    stack = DEFAULT_STACK,
    config?: Record<string, unknown>,
    keepSecrets = false,
): ResourceValidationArgs {
    const props = sdk.unknownCheckingProxy(
        keepSecrets
            ? secretProxy(deserialize(r.props, true) as Record<string, unknown>)
            : (deserialize(r.props, false) as Record<string, unknown>),
    );
    return {
        type: r.type,
        props,
        urn: urnOf(stack, r),
        name: r.name,
        opts: optsOf(r),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => configOf(p, config) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

export interface Outcome {
    violations: { message: string; urn?: string }[];
    /** "can't run during preview" advisories, as the engine reports unknown values. */
    advisories: string[];
}

async function guarded(fn: () => unknown, out: Outcome): Promise<void> {
    try {
        await fn();
    } catch (e) {
        if (e instanceof sdk.UnknownValueError) out.advisories.push(e.message);
        else if (!(e instanceof NotApplicable)) throw e;
    }
}

export async function validateResource(
    p: ResourceValidationPolicy,
    r: TestResource,
    stack = DEFAULT_STACK,
    config?: Record<string, unknown>,
): Promise<Outcome> {
    const out: Outcome = { violations: [], advisories: [] };
    const fns =
        p.validateResource === undefined
            ? []
            : Array.isArray(p.validateResource)
              ? p.validateResource
              : [p.validateResource];
    for (const fn of fns) {
        const args = resourceArgs(p, r, stack, config);
        await guarded(() => fn(args, (message) => out.violations.push({ message, urn: args.urn })), out);
    }
    return out;
}

/** The remediated props, or undefined when the policy left the resource alone. */
export async function remediate(
    p: ResourceValidationPolicy,
    r: TestResource,
    stack = DEFAULT_STACK,
): Promise<Record<string, unknown> | undefined> {
    if (!p.remediateResource) return undefined;
    const result = await p.remediateResource(resourceArgs(p, r, stack, undefined, true));
    return (result as Record<string, unknown> | undefined) ?? undefined;
}

export function stackArgs(
    p: Policy,
    resources: TestResource[],
    stack = DEFAULT_STACK,
    config?: Record<string, unknown>,
): StackValidationArgs {
    const rs: PolicyResource[] = resources.map((r) => {
        const props = sdk.unknownCheckingProxy(deserialize(r.outputs ?? r.props, false) as Record<string, unknown>);
        return {
            type: r.type,
            props,
            urn: urnOf(stack, r),
            name: r.name,
            opts: optsOf(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
    });
    return {
        resources: rs,
        stackTags: new Map(),
        getConfig: <T extends object>() => configOf(p, config) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

export async function validateStack(
    p: StackValidationPolicy,
    resources: TestResource[],
    stack = DEFAULT_STACK,
    config?: Record<string, unknown>,
): Promise<Outcome> {
    const out: Outcome = { violations: [], advisories: [] };
    const args = stackArgs(p, resources, stack, config);
    await guarded(() => p.validateStack(args, (message, urn) => out.violations.push({ message, urn })), out);
    return out;
}

export function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
    return "validateStack" in p && typeof p.validateStack === "function";
}

/** Every policy over every resource: violations (and remediations) keyed by policy name. */
export async function runPack(
    policies: (ResourceValidationPolicy | StackValidationPolicy)[],
    resources: TestResource[],
    stack: string,
): Promise<{ violations: Map<string, string[]>; remediated: Map<string, string[]>; advisories: string[] }> {
    const violations = new Map<string, string[]>();
    const remediated = new Map<string, string[]>();
    const advisories: string[] = [];
    const add = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
    for (const p of policies) {
        if (isStackPolicy(p)) {
            const o = await validateStack(p, resources, stack);
            o.violations.forEach((v) => add(violations, p.name, v.message));
            advisories.push(...o.advisories);
            continue;
        }
        for (const r of resources) {
            if (p.enforcementLevel === "remediate" && (await remediate(p, r, stack)) !== undefined)
                add(remediated, p.name, r.name);
            const o = await validateResource(p, r, stack);
            o.violations.forEach((v) => add(violations, p.name, `${r.name}: ${v.message}`));
            advisories.push(...o.advisories);
        }
    }
    return { violations, remediated, advisories };
}
