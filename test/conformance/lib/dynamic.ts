/**
 * Load a dynamic provider the way Pulumi's dynamic-provider host does
 * (@pulumi/pulumi/cmd/dynamic-provider/index.js `getProvider`): `requireFromString(__provider)`
 * then `.handler()`. The text is what the program serialised into the resource's inputs, so the
 * conformance tier runs the provider exactly as a real `pulumi up` would, closures and all.
 */
import type * as pulumi from "@pulumi/pulumi";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => { handler(): unknown };

export function loadProvider(
    providerText: string,
): Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "diff" | "update">> {
    return requireFromString(providerText).handler() as Required<
        Pick<pulumi.dynamic.ResourceProvider, "create" | "diff" | "update">
    >;
}
