/**
 * Pure helpers of `npm run migrate`: the source → target mapping, URL path encoding, and the digest
 * a secret version is compared by. No I/O here.
 */
import { createHash } from "node:crypto";

/** One `--map <source mount>[/<prefix>]=<target mount>[/<prefix>]`. */
export interface Mapping {
    sourceMount: string;
    /** "" or a folder without leading/trailing slashes ("app/prod"). */
    sourcePrefix: string;
    targetMount: string;
    targetPrefix: string;
}

const SEGMENT = /^[^/\s][^/]*$/;

function splitMountPath(s: string, side: string, arg: string): { mount: string; prefix: string } {
    const parts = s.replace(/^\/+|\/+$/g, "").split("/");
    const [mount, ...rest] = parts;
    if (!mount || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(mount))
        throw new Error(
            `--map ${arg}: the ${side} mount "${mount ?? ""}" is not a mount path (letters, digits, "_", "-", "."; e.g. secret)`,
        );
    if (rest.some((r) => !SEGMENT.test(r)))
        throw new Error(`--map ${arg}: the ${side} prefix "${rest.join("/")}" has an empty or blank-led folder name`);
    return { mount, prefix: rest.join("/") };
}

/** Parse one `--map` value; throws a one-line error naming the value and the form allowed. */
export function parseMapping(arg: string): Mapping {
    const eq = arg.indexOf("=");
    if (eq <= 0 || eq === arg.length - 1)
        throw new Error(
            `--map ${arg}: expected <source mount>[/<prefix>]=<target mount>[/<prefix>], e.g. --map secret=bonito or --map kv/app=bonito/legacy`,
        );
    const src = splitMountPath(arg.slice(0, eq), "source", arg);
    const dst = splitMountPath(arg.slice(eq + 1), "target", arg);
    return { sourceMount: src.mount, sourcePrefix: src.prefix, targetMount: dst.mount, targetPrefix: dst.prefix };
}

const join = (...p: string[]) => p.filter((x) => x !== "").join("/");

/** Where a secret found at `rel` (relative to the mapping's source prefix) lands, relative to the target mount. */
export function targetPath(m: Mapping, rel: string): string {
    return join(m.targetPrefix, rel);
}

export function sourcePath(m: Mapping, rel: string): string {
    return join(m.sourcePrefix, rel);
}

/**
 * Refuse mappings that would write two sources into one place: two mappings into the same target
 * mount where one target prefix contains the other.
 */
export function checkMappings(maps: readonly Mapping[]): void {
    if (maps.length === 0) throw new Error("no --map given: name at least one source mount, e.g. --map secret=bonito");
    for (let i = 0; i < maps.length; i++)
        for (let j = i + 1; j < maps.length; j++) {
            const a = maps[i];
            const b = maps[j];
            if (a.targetMount !== b.targetMount) continue;
            const pa = a.targetPrefix ? `${a.targetPrefix}/` : "";
            const pb = b.targetPrefix ? `${b.targetPrefix}/` : "";
            if (pa.startsWith(pb) || pb.startsWith(pa))
                throw new Error(
                    `--map ${show(a)} and --map ${show(b)} overlap on the target: give each source its own target prefix (e.g. =${a.targetMount}/legacy)`,
                );
        }
}

export function show(m: Mapping): string {
    return `${join(m.sourceMount, m.sourcePrefix)}=${join(m.targetMount, m.targetPrefix)}`;
}

/** Each path segment percent-encoded (spaces, unicode, "?" and "#" survive the URL), "/" kept. */
export function encodePath(p: string): string {
    return p
        .split("/")
        .map((s) => encodeURIComponent(s))
        .join("/");
}

/** JSON with object keys sorted at every depth: one text per value, whatever order Vault returned. */
export function canonicalJson(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        return `{${Object.keys(o)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(v ?? null);
}

/** SHA-256 of the canonical JSON, held in memory only: compared, never written anywhere. */
export function digest(data: unknown): string {
    return createHash("sha256").update(canonicalJson(data)).digest("hex");
}

/** What a version whose data cannot be read is written as on the target, before it is deleted or destroyed. */
export function placeholder(version: number, why: "deleted" | "destroyed" | "pruned"): Record<string, string> {
    return { "bonito-migrate": `placeholder for version ${version}: ${why} on the source, data not copied` };
}

export function isPlaceholder(data: unknown): boolean {
    return (
        !!data &&
        typeof data === "object" &&
        Object.keys(data).length === 1 &&
        typeof (data as Record<string, unknown>)["bonito-migrate"] === "string" &&
        String((data as Record<string, unknown>)["bonito-migrate"]).startsWith("placeholder for version ")
    );
}
