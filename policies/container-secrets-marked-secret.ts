import { Secret, type ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, str } from "./lib/common";
import { isCredentialEnv, isCredentialFile } from "./lib/credentials";
// Whether a value is a secret is visible only to a remediation, and only through the SDK's proxies
// (no supported API: pulumi/pulumi-policy#241); lib/sdkInternals.ts holds that reliance and says
// how it is pinned. So this check is a remediation.
import { rawProperty as raw } from "./lib/sdkInternals";

/** The value with every nested Secret unwrapped (the whole value is wrapped again by the caller). */
function plain(v: unknown): unknown {
    if (v instanceof Secret) return plain(v.value);
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === "object" && v.constructor === Object)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

/** Env entries and upload contents that hold a credential but are not secrets. Exported for tests. */
export function plaintextCredentials(props: Record<string, unknown>): string[] {
    const found: string[] = [];
    const envs = raw(props, "envs");
    if (!(envs instanceof Secret) && Array.isArray(envs)) {
        envs.forEach((e, i) => {
            if (e instanceof Secret) return;
            const hit = isCredentialEnv(String(e));
            if (hit) found.push(`envs[${i}] ${hit.name}`);
        });
    }
    const uploads = raw(props, "uploads");
    if (!(uploads instanceof Secret) && Array.isArray(uploads)) {
        uploads.forEach((u, i) => {
            if (u instanceof Secret) return;
            const file = str(plain(raw(u, "file"))) ?? "";
            for (const field of ["content", "contentBase64"]) {
                const v = raw(u, field);
                if (v === undefined || v instanceof Secret) continue;
                const text = field === "content" ? String(v) : Buffer.from(String(v), "base64").toString("utf8");
                if (isCredentialFile(file, text)) found.push(`uploads[${i}] ${file}`);
            }
        });
    }
    return found;
}

/**
 * Credentials in a container's environment or uploaded files, and each node's TLS key that NodeTls
 * writes into its container (`keyPem`), must be Pulumi secrets, so state stores them encrypted and `pulumi preview` never prints them. The policy remediates: it marks
 * such values secret and reports what it changed, so the plain value never reaches the state.
 */
export const containerSecretsMarkedSecret: ResourceValidationPolicy = {
    name: "container-secrets-marked-secret",
    description:
        "Credential-bearing container environment variables (tokens, secret ids, keys, passwords), uploaded key/credential files and the node TLS keys NodeTls writes into the containers are Pulumi secrets; plain ones are marked secret by remediation.",
    enforcementLevel: "remediate",
    severity: "critical",
    tags: ["secrets", "docker"],
    remediationSteps:
        "Wrap the value with pulumi.secret(...) (or build envs from secret Outputs) in the component that declares the container.",
    remediateResource: (args) => {
        if (args.type === TYPES.nodeTls) {
            // The node's private key, written into its container by NodeTls (components/tls/nodeTls.ts).
            const key = raw(args.props, "keyPem");
            if (key === undefined || key instanceof Secret) return undefined;
            const out: Record<string, unknown> = {};
            for (const k of Object.keys(args.props)) out[k] = raw(args.props, k);
            out.keyPem = new Secret(plain(key));
            return out;
        }
        if (args.type !== TYPES.container) return undefined;
        const found = plaintextCredentials(args.props);
        if (found.length === 0) return undefined;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(args.props)) out[k] = raw(args.props, k);
        if (found.some((f) => f.startsWith("envs"))) out.envs = new Secret(plain(out.envs));
        if (found.some((f) => f.startsWith("uploads"))) out.uploads = new Secret(plain(out.uploads));
        return out;
    },
};
