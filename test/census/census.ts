/**
 * The resource census of one stack: every resource the program declares under the mock runtime,
 * with its type, name, parent, inputs (secrets marked) and resource options, plus the stack
 * outputs (secrets marked). test/mocks/census.test.ts compares it with the committed
 * test/census/<variant>.json, so that a refactor that changes what a deployed stack would see
 * (a renamed resource, a new parent, an input, a lost `protect`) cannot pass unnoticed.
 *
 * Proves: what the program hands the engine, exactly. Does not prove: that a provider accepts it
 * (the mock echoes inputs back); serialised dynamic-provider code is masked (it changes with any
 * edit of the provider's source, which a refactor may do without changing behaviour; the
 * providers' behaviour is tested in test/unit and the real tiers).
 *
 * Run as a script: `node --import tsx test/census/census.ts <variant> [--update]` prints the census
 * (or, with --update, rewrites test/census/<variant>.json). `npm run census -- --update` does every
 * variant.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isSecretInput, setupMocks, stackConfig, valueOf } from "../helpers/mocks";

/** The committed stacks, and the prod stack moved to the other two clouds (the policy tests' variants). */
export const VARIANTS: Record<string, { stack: string; overrides: Record<string, string>; secretKeys?: string[] }> = {
    local: { stack: "local", overrides: {} },
    staging: { stack: "staging", overrides: {} },
    prod: { stack: "prod", overrides: {} },
    "prod-azure": {
        stack: "prod",
        overrides: {
            cloud: "azure",
            azureLocation: "westeurope",
            azureResourceGroup: "rg-vault",
            azureAllowedIps: '["203.0.113.7"]',
        },
    },
    /** prod with the bundled Prometheus, Alertmanager, blackbox and mtail containers (test/policies/fixtures BUNDLED). */
    "prod-bundled": {
        stack: "prod",
        overrides: {
            monitoring: "bundled",
            monitoringWebhookUrl: "https://alerts.bonito.example/hooks/vault",
            monitoringMtailImage: "registry.bonito.example/mtail:3.0.0-rc50",
        },
        secretKeys: ["bonito-vault:monitoringWebhookUrl"],
    },
    "prod-gcp": { stack: "prod", overrides: { cloud: "gcp", gcpProject: "acme-vault", gcpLocation: "europe-west1" } },
};

export const CENSUS_DIR = __dirname;

interface Entry {
    type: string;
    name: string;
    parent?: string;
    options: Record<string, unknown>;
    inputs?: unknown;
}

/** Secrets as `{ "(secret)": value }`; serialised provider code masked; object keys sorted. */
function normalise(v: unknown, key = ""): unknown {
    if (isSecretInput(v)) return { "(secret)": normalise((v as { value: unknown }).value) };
    if (key === "__provider" && typeof v === "string") return "(serialised dynamic provider)";
    if (Array.isArray(v)) return v.map((x) => normalise(x));
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, normalise((v as Record<string, unknown>)[k], k)]),
        );
    return v;
}

/** Build the program for one variant under mocks and return its census (call once per process). */
export async function census(variant: string): Promise<unknown> {
    const spec = VARIANTS[variant];
    if (!spec) throw new Error(`unknown census variant ${variant}; known: ${Object.keys(VARIANTS).join(", ")}`);
    const run = setupMocks(spec.stack, stackConfig(spec.stack, spec.overrides), spec.secretKeys);
    const names = new Map<pulumi.Resource, string>();
    const entries = new Map<string, Entry>();
    const pendingDeps = new Map<string, unknown>();
    const label = (r: pulumi.Resource | undefined) => (r ? (names.get(r) ?? "(outside the program)") : undefined);
    const transformation: pulumi.ResourceTransformation = (args) => {
        const key = `${args.type}::${args.name}`;
        if (entries.has(key)) throw new Error(`census: two resources are ${key}`);
        names.set(args.resource, key);
        const o = args.opts;
        // A promise of resources (the rolling chain, known when the program runs) is resolved below.
        pendingDeps.set(key, o.dependsOn);
        const deps = o.dependsOn === undefined ? undefined : [o.dependsOn].flat();
        const options: Record<string, unknown> = {
            protect: o.protect,
            retainOnDelete: o.retainOnDelete,
            deleteBeforeReplace: (o as pulumi.CustomResourceOptions).deleteBeforeReplace,
            ignoreChanges: o.ignoreChanges,
            replaceOnChanges: o.replaceOnChanges,
            additionalSecretOutputs: (o as pulumi.CustomResourceOptions).additionalSecretOutputs,
            customTimeouts: o.customTimeouts,
            aliases: o.aliases?.length,
            provider: label((o as pulumi.CustomResourceOptions).provider as pulumi.Resource | undefined),
            dependsOn: deps?.map((d) => (pulumi.Resource.isInstance(d) ? label(d) : "(an Output of resources)")),
        };
        entries.set(key, {
            type: args.type,
            name: args.name,
            parent: label(o.parent),
            options: Object.fromEntries(Object.entries(options).filter(([, x]) => x !== undefined)),
        });
        return undefined;
    };
    const { buildProgram } = await import("../../program");
    const built = buildProgram(undefined, { transformations: [transformation] }, { allowExampleKeys: true });
    const outputs: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(built.outputs)) {
        const out = pulumi.output(o as pulumi.Input<unknown>);
        const value = await valueOf(out);
        outputs[k] = (await pulumi.isSecret(out)) ? { "(secret)": value } : value;
    }
    // Let every registration reach the mock monitor.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    for (const [key, d] of pendingDeps) {
        if (!(d instanceof Promise) && !pulumi.Output.isInstance(d)) continue;
        const v: unknown = pulumi.Output.isInstance(d) ? await valueOf(d as pulumi.Output<unknown>) : await d;
        const list = (Array.isArray(v) ? v : [v]) as pulumi.Resource[];
        entries.get(key)!.options.dependsOn = list.map((r) => label(r));
    }
    for (const r of run.resources) {
        const e = entries.get(`${r.type}::${r.name}`);
        if (!e) throw new Error(`census: ${r.type}::${r.name} registered outside the program's component tree`);
        e.inputs = r.rawInputs;
    }
    const resources = [...entries.keys()].sort().map((k) => normalise(entries.get(k)));
    return { variant, resources, outputs: normalise(outputs) };
}

export function fixturePath(variant: string): string {
    return path.join(CENSUS_DIR, `${variant}.json`);
}

if (require.main === module) {
    const [variant, flag] = process.argv.slice(2);
    census(variant)
        .then((c) => {
            const text = `${JSON.stringify(c, null, 2)}\n`;
            if (flag === "--update") fs.writeFileSync(fixturePath(variant), text);
            else process.stdout.write(text);
            // The mock runtime leaves timers behind; the census is complete.
            process.exit(0);
        })
        .catch((e: unknown) => {
            console.error(e);
            process.exit(1);
        });
}
