/**
 * Load a dynamic provider the way Pulumi's dynamic-provider host does
 * (@pulumi/pulumi/cmd/dynamic-provider/index.js `getProvider`): `requireFromString(__provider)`
 * then `.handler()`. The text is what the program serialised into the resource's inputs, so the
 * conformance tier runs the provider exactly as a real `pulumi up` would, closures and all.
 */
import type * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };

type Method = keyof pulumi.dynamic.ResourceProvider;

/**
 * The provider, with each of `methods` (by default create, diff and update) checked to be a
 * function: a provider that lacks one fails here, naming it, not later as "is not a function".
 */
export function loadProvider<M extends Method = "create" | "diff" | "update">(
    providerText: string,
    methods: readonly M[] = ["create", "diff", "update"] as M[],
): Required<Pick<pulumi.dynamic.ResourceProvider, M>> {
    const provider = requireFromString(providerText).handler() as Required<Pick<pulumi.dynamic.ResourceProvider, M>>;
    for (const m of methods)
        if (typeof provider[m] !== "function") throw new Error(`the dynamic provider has no ${m}() method`);
    return provider;
}
