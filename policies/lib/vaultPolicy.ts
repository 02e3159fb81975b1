/** Vault ACL policy documents: JSON (`{"path": {"p": {"capabilities": [...]}}}`) or HCL. */
import { arr, obj } from "./common";

export interface Rule {
    path: string;
    capabilities: string[];
}

export function parseVaultPolicy(text: string): Rule[] | undefined {
    try {
        const json = obj(JSON.parse(text));
        const paths = obj(json?.path);
        if (!paths) return undefined;
        return Object.entries(paths).map(([path, rule]) => ({
            path,
            capabilities: arr(obj(rule)?.capabilities).map(String),
        }));
    } catch {
        // HCL: path "p" { capabilities = ["read"] }
        const rules: Rule[] = [];
        const re = /path\s+"([^"]+)"\s*\{([^}]*)\}/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(text)) !== null) {
            const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(m[2]);
            rules.push({ path: m[1], capabilities: caps ? [...caps[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : [] });
        }
        return rules.length > 0 || text.trim() === "" ? rules : undefined;
    }
}

/** A rule that grants something (anything but an explicit deny). */
export function grants(r: Rule): boolean {
    return r.capabilities.length > 0 && !r.capabilities.includes("deny");
}

/** Path → the capabilities a policy may grant there; every other path is out. */
export type AllowList = Record<string, string[]>;

/** The token self-service paths Vault's `default` policy grants (a policy may repeat them). */
export const TOKEN_SELF_PATHS: AllowList = {
    "auth/token/lookup-self": ["read"],
    "auth/token/renew-self": ["update"],
    "auth/token/revoke-self": ["update"],
};

/** What a granting rule has beyond the allow-list (`undefined` when it stays inside). */
export function beyondAllowList(r: Rule, allowed: AllowList): string | undefined {
    if (!grants(r)) return undefined;
    const caps = allowed[r.path];
    const extra = caps === undefined ? r.capabilities : r.capabilities.filter((c) => !caps.includes(c));
    return extra.length === 0 ? undefined : `${extra.join(", ")} on "${r.path}"`;
}

/** The allow-list as policy text for a message: `"p": [caps]; …`. */
export function describeAllowList(allowed: AllowList): string {
    return Object.entries(allowed)
        .map(([p, c]) => `"${p}" [${c.join(", ")}]`)
        .join("; ");
}

/**
 * Report each grant of Vault policy `name` beyond the allow-list (`message` words it), or that the
 * policy text could not be parsed: the shared check of the least-privilege rules.
 */
export function reportBeyondAllowList(
    name: string,
    policyText: string,
    allowed: AllowList,
    message: (beyond: string) => string,
    report: (message: string) => void,
): void {
    const rules = parseVaultPolicy(policyText);
    if (!rules) {
        report(`Vault policy ${name} could not be parsed; render it as JSON.`);
        return;
    }
    for (const r of rules) {
        const beyond = beyondAllowList(r, allowed);
        if (beyond !== undefined) report(message(beyond));
    }
}
