/**
 * The one place that reaches into @pulumi/pulumi beyond its typed, documented API. Each use is a
 * bet on the SDK's internals, verified against the version in {@link VERIFIED_SDK_VERSION};
 * test/unit/sdkInternals.test.ts fails, naming the function, when an upgrade breaks one.
 *
 * - {@link isConfigSecret}: which stack config keys were set with `--secret`. The runtime has the
 *   answer (`@pulumi/pulumi/runtime/config`'s `isConfigSecret`, marked `@internal`, so absent from
 *   the typings); the public `Config` API can only re-wrap a value as secret, not tell whether the
 *   user set it as one, and the program refuses a credential typed in plain text.
 * - {@link outputState}: whether an Output's value is known and secret, and the value itself, for
 *   the offline render and the mock-runtime tests. `Output.isKnown`, `isSecret`, `promise()` and
 *   `allResources()` are `@internal` members; `pulumi.isSecret` is public and used where it
 *   suffices, but nothing public says "unknown" without running an `apply` that never runs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";

/** The @pulumi/pulumi version these internals were read in (package.json pins ~3.248). */
export const VERIFIED_SDK_VERSION = "3.248.0";

interface RuntimeConfigInternals {
    isConfigSecret(key: string): boolean;
}

function hasIsConfigSecret(m: object): m is RuntimeConfigInternals {
    return typeof (m as Partial<RuntimeConfigInternals>).isConfigSecret === "function";
}

/** True when the stack config key (`bonito-vault:name`) was set with `pulumi config set --secret`. */
export function isConfigSecret(key: string): boolean {
    if (!hasIsConfigSecret(runtimeConfig))
        throw new Error(
            `@pulumi/pulumi/runtime/config no longer exports isConfigSecret (verified in ${VERIFIED_SDK_VERSION}): ` +
                "see components/sdkInternals.ts",
        );
    return runtimeConfig.isConfigSecret(key);
}

/** The @internal members of an Output this program reads. */
export interface OutputState<T> {
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
    promise(): Promise<T>;
    allResources?: () => Promise<unknown>;
}

function isOutputState<T>(o: object): o is OutputState<T> {
    const s = o as Partial<OutputState<T>>;
    return s.isKnown instanceof Promise && s.isSecret instanceof Promise && typeof s.promise === "function";
}

/** The internal state of `pulumi.output(value)`: known?, secret?, the value. */
export function outputState<T>(value: pulumi.Input<T>): OutputState<T> {
    const out = pulumi.output(value);
    if (!isOutputState<T>(out))
        throw new Error(
            `an Output no longer has isKnown/isSecret/promise() (verified in ${VERIFIED_SDK_VERSION}): ` +
                "see components/sdkInternals.ts",
        );
    return out;
}
