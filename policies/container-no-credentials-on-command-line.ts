import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, labelsOf, obj } from "./lib/common";
import { CREDENTIAL_NAME, DEV_TOKENS, REFERENCE_NAME, isReference, looksLikeCredential } from "./lib/credentials";

/** `k=v` pairs and `--flag value` pairs in an argument list (shell strings are split on spaces). */
function pairs(argv: string[]): { key: string; value: string }[] {
    const words = argv.flatMap((a) => a.split(/\s+/)).filter((w) => w !== "");
    const out: { key: string; value: string }[] = [];
    words.forEach((w, i) => {
        const eq = w.indexOf("=");
        if (eq > 0)
            out.push({ key: w.slice(0, eq).replace(/^-+/, ""), value: w.slice(eq + 1).replace(/^["']|["']$/g, "") });
        else if (/^--?[A-Za-z]/.test(w) && i + 1 < words.length && !words[i + 1].startsWith("-"))
            out.push({ key: w.replace(/^-+/, ""), value: words[i + 1] });
        else if (/^x-vault-token:?$/i.test(w) && i + 1 < words.length)
            out.push({ key: "X_VAULT_TOKEN", value: words[i + 1] });
    });
    return out;
}

/**
 * The command line of a container is visible to anyone who can `docker inspect` or `ps` the host,
 * and is stored unencrypted in Pulumi state: credentials never travel there, and never in labels.
 *
 * One-field changes that would undo the same protection, each covered here: a credential as a
 * `k=v` argument, as a `--flag value` pair, as an `X-Vault-Token:` header, inside a shell string, in
 * the entrypoint, command or healthcheck; credential material in a label; a dev-mode token in a
 * credential variable.
 */
export const containerNoCredentialsOnCommandLine: ResourceValidationPolicy = {
    name: "container-no-credentials-on-command-line",
    description:
        "No container carries a credential in its command, entrypoint, healthcheck or labels, and no credential variable holds a known dev-mode token.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["secrets", "docker"],
    remediationSteps:
        "Pass credentials as secret environment variables (pulumi.secret) or as secret uploaded files, and point flags at the file (`-token-file=/path`, `VAULT_TOKEN` in the environment).",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container) return;
        const hc = obj(args.props.healthcheck);
        const argv = [
            ...arr(args.props.entrypoints ?? args.props.entrypoint),
            ...arr(args.props.command),
            ...arr(hc?.tests),
        ].map(String);
        for (const { key, value } of pairs(argv)) {
            const named = CREDENTIAL_NAME.test(key.replace(/-/g, "_")) && !REFERENCE_NAME.test(key.replace(/-/g, "_"));
            if ((named && !isReference(value)) || looksLikeCredential(value))
                report(
                    `The container's command line passes a credential (${key}=…); pass it as a secret environment variable or file.`,
                );
        }
        for (const a of argv)
            if (looksLikeCredential(a) && !a.includes("="))
                report("The container's command line contains credential material; pass it as a secret file.");
        for (const [k, v] of labelsOf(args.props))
            if (looksLikeCredential(v)) report(`Label ${k} holds credential material; labels are public metadata.`);
        for (const e of arr(args.props.envs).map(String)) {
            const [name, ...rest] = e.split("=");
            if (CREDENTIAL_NAME.test(name) && DEV_TOKENS.includes(rest.join("=")))
                report(`${name} holds the dev-mode token "${rest.join("=")}"; use a real, secret credential.`);
        }
    },
};
