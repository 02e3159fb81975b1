/**
 * The names and the API scheme every part of a stack derives from, written once. A leaf module:
 * the config layer (defaults of names) and the platform plan (components/plan.ts) both use it.
 */

/** The stack's base name `<clusterName>-<stack>`: Vault's cluster_name, the CA's organisation, cloud name prefixes. */
export function baseName(clusterName: string, stack: string): string {
    return `${clusterName}-${stack}`;
}

/** Docker object names: `<cluster>-<stack>[-<suffix>]`, valid for containers, volumes and networks. */
export function dockerName(cfg: { clusterName: string; stack: string }, ...parts: string[]): string {
    const name = [baseName(cfg.clusterName, cfg.stack), ...parts].join("-").toLowerCase();
    return name.replace(/[^a-z0-9_.-]/g, "-");
}

export type ApiScheme = "http" | "https";

/** Vault's API speaks https unless TLS terminates at a trusted proxy in front of it (tlsMode upstream-proxy). */
export function apiScheme(tls: { mode: string }): ApiScheme {
    return tls.mode === "upstream-proxy" ? "http" : "https";
}
