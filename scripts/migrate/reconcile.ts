/**
 * What `npm run migrate` does to one secret, decided from the two sides' metadata: pure, so every
 * case (fresh copy, resume after a kill, catch-up, conflict) is tested without a server.
 *
 * Version numbers are kept: version N on the source becomes version N on the target, written with
 * check-and-set N-1, so a repeated or resumed run can never write a version twice. A version whose
 * data the source no longer gives out (soft-deleted, destroyed, or pruned by max_versions) is
 * written as a placeholder and then deleted or destroyed, so the numbering and the end state match.
 */
import { deletedBy, type Meta, type SecretSettings, type VersionState, type WriteAnswer } from "./kv";

export type SourceState = VersionState | "pruned";

export type Action =
    /** Delete every version and the metadata on the target (source removed it, or --overwrite). */
    | { kind: "remove" }
    | { kind: "settings" }
    /** Write `version` (check-and-set version - 1): the source's data, or a placeholder. */
    | { kind: "write"; version: number; data: "source" | "placeholder" }
    | { kind: "delete"; versions: number[] }
    | { kind: "destroy"; versions: number[] };

export interface Decision {
    actions: Action[];
    /** Why the target may not be written without --overwrite; undefined when there is no conflict. */
    conflict?: string;
}

/** Questions that need data reads, asked only where metadata alone cannot decide. */
export interface Probes {
    /** Both sides hold version v live: is the data the same? */
    sameData(version: number): Promise<boolean>;
    /** The target's live version v: is it a placeholder this tool wrote? */
    targetPlaceholder(version: number): Promise<boolean>;
}

export const DEFAULT_SETTINGS: SecretSettings = {
    max_versions: 0,
    cas_required: false,
    delete_version_after: "0s",
    custom_metadata: {},
};

export function sameSettings(a: SecretSettings, b: SecretSettings): boolean {
    const keys = (o: Record<string, string>) => Object.keys(o).sort();
    return (
        a.max_versions === b.max_versions &&
        a.cas_required === b.cas_required &&
        a.delete_version_after === b.delete_version_after &&
        keys(a.custom_metadata).join("\0") === keys(b.custom_metadata).join("\0") &&
        keys(a.custom_metadata).every((k) => a.custom_metadata[k] === b.custom_metadata[k])
    );
}

export function sourceState(src: Meta, v: number): SourceState {
    return v < src.oldest ? "pruned" : (src.versions.get(v) ?? "pruned");
}

/** The versions to write after `from`, and how each one ends. */
function appendVersions(src: Meta, from: number): Action[] {
    const writes: Action[] = [];
    const del: number[] = [];
    const destroy: number[] = [];
    for (let v = from + 1; v <= src.current; v++) {
        const s = sourceState(src, v);
        writes.push({ kind: "write", version: v, data: s === "live" ? "source" : "placeholder" });
        if (s === "deleted") del.push(v);
        if (s === "destroyed" || s === "pruned") destroy.push(v);
    }
    return [
        ...writes,
        ...(del.length ? [{ kind: "delete" as const, versions: del }] : []),
        ...(destroy.length ? [{ kind: "destroy" as const, versions: destroy }] : []),
    ];
}

/** A fresh copy: settings (when not Vault's defaults), every version in order, then the end states. */
export function freshCopy(src: Meta): Action[] {
    return [
        // A secret with no version yet (metadata only) still gets its metadata, so the path exists.
        ...(sameSettings(src.settings, DEFAULT_SETTINGS) && src.current > 0 ? [] : [{ kind: "settings" as const }]),
        ...appendVersions(src, 0),
    ];
}

/**
 * A KV v2 source secret against what the target holds.
 *
 * @param trusted the target is exactly as this tool left it on its last pass (its metadata
 *   fingerprint matches the state file), so its versions are known copies of the source's.
 */
export async function reconcileKv2(
    src: Meta,
    tgt: Meta | undefined,
    trusted: boolean,
    probes: Probes,
): Promise<Decision> {
    if (!tgt || (tgt.current === 0 && tgt.versions.size === 0)) return { actions: freshCopy(src) };
    if (tgt.current > src.current)
        return {
            actions: [],
            conflict: `the target is at version ${tgt.current}, the source only at ${src.current}`,
        };
    const del: number[] = [];
    const destroy: number[] = [];
    for (let v = 1; v <= tgt.current; v++) {
        const s = sourceState(src, v);
        const t = tgt.versions.get(v);
        if (t === undefined) {
            if (s === "live")
                return {
                    actions: [],
                    conflict: `version ${v} is gone from the target (pruned by its max_versions) but live on the source`,
                };
            continue;
        }
        if (s === "live") {
            if (t !== "live")
                return { actions: [], conflict: `version ${v} is ${t} on the target but live on the source` };
            if (!trusted && !(await probes.sameData(v)))
                return { actions: [], conflict: `version ${v} holds different data on the target` };
            continue;
        }
        if (t === "destroyed") {
            if (s === "deleted")
                return {
                    actions: [],
                    conflict: `version ${v} is destroyed on the target but only deleted (restorable) on the source`,
                };
            continue;
        }
        if (t === "live" && !trusted && !(await probes.targetPlaceholder(v)))
            return {
                actions: [],
                conflict: `version ${v} is ${s} on the source but holds data on the target that this tool did not write`,
            };
        if (s === "deleted" && t === "live") del.push(v);
        if (s === "destroyed" || s === "pruned") destroy.push(v);
    }
    return {
        actions: [
            ...(sameSettings(src.settings, tgt.settings) ? [] : [{ kind: "settings" as const }]),
            ...appendVersions(src, tgt.current),
            ...(del.length ? [{ kind: "delete" as const, versions: del }] : []),
            ...(destroy.length ? [{ kind: "destroy" as const, versions: destroy }] : []),
        ],
    };
}

/**
 * A KV v1 source secret (one value, no history) against the target's KV v2 secret: it becomes the
 * target's latest version.
 *
 * @param latestSame whether the target's latest version holds the source's value (undefined when
 *   that version is not live).
 */
export function reconcileKv1(tgt: Meta | undefined, trusted: boolean, latestSame: boolean | undefined): Decision {
    if (!tgt || tgt.current === 0) return { actions: [{ kind: "write", version: 1, data: "source" }] };
    if (latestSame === true) return { actions: [] };
    if (!trusted)
        return {
            actions: [],
            conflict:
                latestSame === undefined
                    ? `the target's latest version ${tgt.current} is deleted or destroyed`
                    : `the target's latest version ${tgt.current} holds different data`,
        };
    return { actions: [{ kind: "write", version: tgt.current + 1, data: "source" }] };
}

/** With --overwrite: the conflicting target secret is removed, then copied afresh. */
export function overwrite(src: Meta | "kv1"): Action[] {
    return [
        { kind: "remove" },
        ...(src === "kv1" ? [{ kind: "write" as const, version: 1, data: "source" as const }] : freshCopy(src)),
    ];
}

/** Versions written by a decision (the progress and the report count them). */
export function writes(actions: readonly Action[]): number {
    return actions.filter((a) => a.kind === "write").length;
}

/**
 * The metadata facts that change whenever a secret changes: versions and their states, settings,
 * and Vault's own updated_time. Timestamps and counts only: no value, no digest of a value.
 */
export function fingerprint(m: Meta): string {
    const versions = [...m.versions.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([v, s]) => `${v}:${s}`)
        .join(",");
    return JSON.stringify([
        m.current,
        m.oldest,
        m.updated,
        versions,
        m.settings.max_versions,
        m.settings.cas_required,
        m.settings.delete_version_after,
        Object.entries(m.settings.custom_metadata).sort(),
    ]);
}

function parseFingerprint(f: string): Meta | undefined {
    let r: unknown;
    try {
        r = JSON.parse(f);
    } catch {
        return undefined;
    }
    if (!Array.isArray(r) || r.length !== 8) return undefined;
    const [current, oldest, updated, versions, maxVersions, casRequired, dva, custom] = r as unknown[];
    if (typeof versions !== "string" || !Array.isArray(custom)) return undefined;
    const m = new Map<number, VersionState>();
    for (const part of versions ? versions.split(",") : []) {
        const [v, st] = part.split(":");
        m.set(Number(v), st as VersionState);
    }
    return {
        current: Number(current),
        oldest: Number(oldest),
        updated: String(updated),
        versions: m,
        settings: {
            max_versions: Number(maxVersions),
            cas_required: casRequired === true,
            delete_version_after: String(dva),
            custom_metadata: Object.fromEntries(custom as [string, string][]),
        },
    };
}

/**
 * Whether the target secret is as this tool left it: its metadata matches the fingerprint recorded
 * after the last pass, except that Vault may have pruned the oldest versions (max_versions, the
 * secret's or the mount's, which this tool may not read) while the writes went in. Anything else
 * someone does to the secret changes what is compared: a write (current version, updated_time), a
 * deletion, undeletion or destruction (a version's state), a settings change, a re-creation
 * (updated_time is the last version's creation time, to the nanosecond).
 */
export function sameTarget(recorded: string, now: Meta): boolean {
    if (recorded === fingerprint(now)) return true;
    const r = parseFingerprint(recorded);
    if (!r || now.oldest < r.oldest) return false;
    for (const v of now.versions.keys()) if (!r.versions.has(v)) return false;
    for (const [v, st] of r.versions) {
        const t = now.versions.get(v);
        if (t === undefined ? v >= now.oldest : t !== st) return false;
    }
    return recorded === fingerprint({ ...now, oldest: r.oldest, versions: r.versions });
}

/**
 * The target's metadata after `actions` ran on `before` (undefined: no secret there), worked out
 * from what was sent and what each write answered (its version's created_time and deletion_time),
 * so recording a copied secret needs no read after its writes. Vault sets updated_time to the last
 * written version's created_time; deletions, destructions and a settings write on an existing
 * secret leave it. Undefined when the answers do not tell: a new secret that got only its settings
 * (updated_time is the server's clock), or a write without its answer. Pruning by max_versions is
 * left to `sameTarget`.
 *
 * @param settings the settings a `settings` action wrote (the source's)
 */
export function afterActions(
    before: Meta | undefined,
    actions: readonly Action[],
    settings: SecretSettings | undefined,
    answers: ReadonlyMap<number, WriteAnswer>,
    now = Date.now(),
): Meta | undefined {
    let m: Meta | undefined = before && { ...before, versions: new Map(before.versions) };
    const empty = (): Meta => ({
        current: 0,
        oldest: 0,
        updated: "",
        versions: new Map(),
        settings: DEFAULT_SETTINGS,
    });
    for (const a of actions) {
        switch (a.kind) {
            case "remove":
                m = undefined;
                break;
            case "settings":
                if (!settings) return undefined;
                m ??= empty();
                m.settings = settings;
                break;
            case "write": {
                const w = answers.get(a.version);
                if (!w || w.version !== a.version || !w.created_time) return undefined;
                m ??= empty();
                m.versions.set(a.version, deletedBy(w.deletion_time, now) ? "deleted" : "live");
                m.current = a.version;
                m.updated = w.created_time;
                break;
            }
            case "delete":
            case "destroy":
                if (!m) return undefined;
                for (const v of a.versions) {
                    const st = m.versions.get(v);
                    if (st === undefined || st === "destroyed") continue;
                    m.versions.set(v, a.kind === "destroy" ? "destroyed" : "deleted");
                }
                break;
        }
    }
    return m && m.updated !== "" ? m : undefined;
}
