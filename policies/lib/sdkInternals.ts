/**
 * The pack's one reliance on @pulumi/policy behaviour that is not documented API, kept here so that
 * an SDK upgrade has one place to re-check.
 *
 * No supported API tells a policy whether a property is a Pulumi secret (pulumi/pulumi-policy#241,
 * open as of 1.21.0; the CrossGuard FAQ: policies see secrets in plain text). Validation receives
 * secrets unwrapped. Remediation receives them as `Secret` objects under `secretsPreservingProxy`
 * (secret.js), itself wrapped in `unknownCheckingProxy` (proxy.js); both proxies' `get` traps unwrap
 * a `Secret`, but neither defines a `getOwnPropertyDescriptor` trap, so a property's descriptor
 * shows the underlying value: a `Secret` where the value is a secret.
 *
 * Verified against @pulumi/policy VERIFIED_POLICY_SDK. test/policies/sdkInternals.test.ts fails,
 * naming both versions, when policies/package-lock.json or the installed SDK moves off it, and runs
 * the pack's remediation through the SDK's own Remediate handler (server.js) on a secret and on a
 * plain credential, so a change in the proxies fails there, not silently in a real `pulumi up`.
 */
export const VERIFIED_POLICY_SDK = "1.21.0";

/**
 * The value under `o[key]` as the engine handed it to a remediation, without the proxies'
 * unwrapping: a `Secret` (from "@pulumi/policy") where the value is a Pulumi secret. Undefined when
 * `o` is not an object or has no such own property.
 */
export function rawProperty(o: unknown, key: string | number): unknown {
    if (o === null || typeof o !== "object") return undefined;
    return Object.getOwnPropertyDescriptor(o, key)?.value;
}
