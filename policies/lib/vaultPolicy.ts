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
