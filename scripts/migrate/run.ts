/**
 * The three passes of `npm run migrate`: plan (read both sides, decide), copy (plan, refuse on
 * conflicts, then write), verify (re-read both sides and compare every version by digest).
 *
 * Values live only in this process's memory between one read and one write: nothing here writes a
 * value to a file, a log line or an error. The state file holds paths and metadata fingerprints
 * (version numbers, states, timestamps) so the next pass can skip what has not changed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
    call,
    deleteSecret,
    deleteVersions,
    destroyVersions,
    kv1List,
    kv2List,
    listRecursive,
    migrateError,
    mountInfo,
    parseWriteAnswer,
    readMeta,
    readV1,
    readVersion,
    writeSettings,
    writeVersion,
    type Meta,
    type Side,
    type WriteAnswer,
} from "./kv";
import { digest, isPlaceholder, placeholder, show, sourcePath, targetPath, type Mapping } from "./paths";
import {
    afterActions,
    fingerprint,
    overwrite,
    reconcileKv1,
    reconcileKv2,
    sameSettings,
    sameTarget,
    sourceState,
    writes,
    type Action,
    type Decision,
} from "./reconcile";

export interface Progress {
    start(phase: string, total: number): void;
    tick(n?: number): void;
    done(): void;
}

export const quietProgress: Progress = { start() {}, tick() {}, done() {} };

export interface RunOptions {
    maps: Mapping[];
    concurrency: number;
    /** Where the last pass's fingerprints are kept (paths and metadata only; 0600). */
    stateFile: string;
    overwrite: boolean;
    progress: Progress;
}

/** One source secret and what happens to it. */
export interface PathReport {
    source: string;
    target: string;
    kind: "kv1" | "kv2";
    /** Versions the source lists (1 for KV v1). */
    versions: number;
    action: "copy" | "catch-up" | "unchanged" | "remove" | "conflict" | "overwrite";
    /** Versions written (planned, for `plan`). */
    written: number;
    conflict?: string;
}

export interface Difference {
    path: string;
    version?: number;
    what: string;
}

/** A source thing this tool does not move, by name, with the reason. */
export interface NotMoved {
    kind: "secrets engine" | "auth method" | "policy" | "listing";
    name: string;
    reason: string;
}

// ---------------------------------------------------------------------------------------------
// State file

interface Entry {
    /** Fingerprint of the source's metadata at the last pass ("" for KV v1: it has none). */
    src: string;
    /** Fingerprint of the target's metadata right after the last pass wrote it. */
    tgt: string;
}

interface State {
    version: 1;
    entries: Record<string, Entry>;
}

const entryKey = (m: Mapping, rel: string) => `${show(m)}\u0000${rel}`;

export function loadState(file: string): State {
    try {
        const s = JSON.parse(fs.readFileSync(file, "utf8")) as State;
        if (s.version === 1 && s.entries && typeof s.entries === "object") return s;
    } catch {
        // no state yet, or unreadable: every path is compared in full
    }
    return { version: 1, entries: {} };
}

export function saveState(file: string, s: State): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
    fs.renameSync(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// Pool

export async function pool<T>(
    items: readonly T[],
    concurrency: number,
    work: (item: T) => Promise<void>,
): Promise<void> {
    let next = 0;
    let failed: unknown;
    await Promise.all(
        Array.from({ length: Math.min(concurrency, items.length) }, async () => {
            while (next < items.length && failed === undefined) {
                const item = items[next++];
                try {
                    await work(item);
                } catch (e) {
                    failed ??= e;
                }
            }
        }),
    );
    if (failed !== undefined) throw failed;
}

// ---------------------------------------------------------------------------------------------
// Preflight

/** Unsealed, and the token is accepted: refuses with one line before anything is read or written. */
export async function preflight(side: Side): Promise<void> {
    const seal = await call(side, "GET", "sys/seal-status", { ok: [200], anonymous: true });
    const s = (seal.body ?? {}) as { sealed?: boolean; initialized?: boolean };
    if (s.initialized === false) throw migrateError(`the ${side.name} Vault at ${side.addr} is not initialised`);
    if (s.sealed === true)
        throw migrateError(`the ${side.name} Vault at ${side.addr} is sealed: unseal it, then run again`);
    await call(side, "GET", "auth/token/lookup-self", { ok: [200] });
}

export interface MountKinds {
    /** Per mapping, the source mount's KV version. */
    source: ("kv1" | "kv2")[];
}

/** Each source mount must be KV (v1 or v2), each target mount KV v2. */
export async function checkMounts(source: Side, target: Side, maps: readonly Mapping[]): Promise<MountKinds> {
    const kinds: ("kv1" | "kv2")[] = [];
    for (const m of maps) {
        const s = await mountInfo(source, m.sourceMount);
        if (!s)
            throw migrateError(
                `the source has no mount "${m.sourceMount}/" that this token can see (--map ${show(m)}): check the mount path (vault secrets list)`,
            );
        if (s.type !== "kv")
            throw migrateError(
                `the source mount "${m.sourceMount}/" is a ${s.type} engine, not KV: only KV v1 and v2 mounts can be copied (--map ${show(m)})`,
            );
        const t = await mountInfo(target, m.targetMount);
        if (!t || t.type !== "kv" || t.version !== "2")
            throw migrateError(
                `the target mount "${m.targetMount}/" is ${t ? `${t.type}${t.version ? ` v${t.version}` : ""}` : "missing or not visible to the migration token"}: copy into the stack's KV v2 mount (the kvMount stack output)`,
            );
        kinds.push(s.version === "2" ? "kv2" : "kv1");
    }
    return { source: kinds };
}

/**
 * What the source holds that this tool does not move, by name with the reason. Needs `read` on
 * sys/mounts and sys/auth and `list` on sys/policies/acl; without them, says so instead.
 */
export async function notMoved(source: Side, maps: readonly Mapping[]): Promise<NotMoved[]> {
    const out: NotMoved[] = [];
    const mapped = new Set(maps.map((m) => m.sourceMount));
    const data = (b: unknown) =>
        ((b as { data?: Record<string, { type?: string }> })?.data ?? {}) as Record<string, { type?: string }>;
    const mounts = await call(source, "GET", "sys/mounts", { ok: [200, 403] });
    if (mounts.status === 403)
        out.push({
            kind: "listing",
            name: "secrets engines",
            reason: "the source token may not read sys/mounts: list them with `vault secrets list` and move what you need by hand",
        });
    else
        for (const [p, m] of Object.entries(data(mounts.body)).sort()) {
            const name = p.replace(/\/$/, "");
            const type = m.type ?? "?";
            if (mapped.has(name)) {
                const partial = maps.filter((x) => x.sourceMount === name).every((x) => x.sourcePrefix !== "");
                if (partial)
                    out.push({
                        kind: "secrets engine",
                        name: p,
                        reason: `only the prefixes given with --map are copied from this ${type} mount`,
                    });
                continue;
            }
            const reason =
                type === "kv"
                    ? "a KV mount not named in --map: add --map " + `${name}=<target mount>/<prefix> to copy it`
                    : ["system", "identity", "cubbyhole"].includes(type)
                      ? "internal to the source Vault (per-token or per-cluster): nothing to move"
                      : `a ${type} engine: its configuration and issued credentials are not copied; declare it on the new cluster if Bonito still needs it`;
            out.push({ kind: "secrets engine", name: p, reason });
        }
    const auth = await call(source, "GET", "sys/auth", { ok: [200, 403] });
    if (auth.status === 403)
        out.push({
            kind: "listing",
            name: "auth methods",
            reason: "the source token may not read sys/auth: list them with `vault auth list`",
        });
    else
        for (const [p, m] of Object.entries(data(auth.body)).sort())
            out.push({
                kind: "auth method",
                name: p,
                reason:
                    m.type === "token"
                        ? "built in: tokens of the old Vault stay there (revoke its root token when you retire it)"
                        : `a ${m.type ?? "?"} auth method: not copied; the stack declares its own AppRole, and clients get new credentials (backendEnv)`,
            });
    const pol = await call(source, "GET", "sys/policies/acl?list=true", { ok: [200, 403, 404] });
    if (pol.status === 403)
        out.push({
            kind: "listing",
            name: "policies",
            reason: "the source token may not list sys/policies/acl: list them with `vault policy list`",
        });
    else {
        const keys = ((pol.body as { data?: { keys?: unknown[] } })?.data?.keys ?? []).map(String).sort();
        for (const k of keys)
            out.push({
                kind: "policy",
                name: k,
                reason: ["root", "default"].includes(k)
                    ? "built into every Vault"
                    : "not copied: the stack declares its policies in code (bonito-backend and the others, docs/vault-settings.md)",
            });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Plan

interface Planned {
    map: Mapping;
    kind: "kv1" | "kv2";
    rel: string;
    src?: Meta;
    /**
     * The target secret as the plan found it (undefined: absent), when the plan knows it: read, or
     * absent from the target's listing. Left out when the plan did not look (an unchanged source).
     */
    tgt?: { meta: Meta | undefined };
    decision: Decision;
    report: PathReport;
}

async function sameVersion(source: Side, target: Side, m: Mapping, rel: string, v: number): Promise<boolean> {
    const [a, b] = await Promise.all([
        readVersion(source, m.sourceMount, sourcePath(m, rel), v),
        readVersion(target, m.targetMount, targetPath(m, rel), v),
    ]);
    return a !== undefined && b !== undefined && digest(a) === digest(b);
}

async function planOne(
    source: Side,
    target: Side,
    m: Mapping,
    kind: "kv1" | "kv2",
    rel: string,
    state: State,
    opts: Pick<RunOptions, "overwrite">,
    targetHas: Set<string> | undefined,
): Promise<Planned | undefined> {
    const srcPath = sourcePath(m, rel);
    const tgtPath = targetPath(m, rel);
    const entry = state.entries[entryKey(m, rel)];
    const base = { source: `${m.sourceMount}/${srcPath}`, target: `${m.targetMount}/${tgtPath}`, kind };
    // A path the target's listing does not hold has no secret there: no read needed to know it.
    const readTarget = () =>
        targetHas && !targetHas.has(rel) ? Promise.resolve(undefined) : readMeta(target, m.targetMount, tgtPath);
    if (kind === "kv2") {
        // With a state entry the source alone may show nothing changed (the final pass reads only the
        // source's metadata); without one, both sides are read at once.
        const [src, early] = await Promise.all([
            readMeta(source, m.sourceMount, srcPath),
            entry ? Promise.resolve(undefined) : readTarget(),
        ]);
        if (!src) return undefined; // removed between the listing and now: the next pass sees it
        const versions = src.versions.size;
        if (entry && entry.src === fingerprint(src))
            return {
                map: m,
                kind,
                rel,
                src,
                decision: { actions: [] },
                report: { ...base, versions, action: "unchanged", written: 0 },
            };
        const tgt = entry ? await readMeta(target, m.targetMount, tgtPath) : early;
        const trusted = !!entry && !!tgt && sameTarget(entry.tgt, tgt);
        let decision = await reconcileKv2(src, tgt, trusted, {
            sameData: (v) => sameVersion(source, target, m, rel, v),
            targetPlaceholder: async (v) => isPlaceholder(await readVersion(target, m.targetMount, tgtPath, v)),
        });
        let action: PathReport["action"] = !tgt ? "copy" : decision.actions.length ? "catch-up" : "unchanged";
        if (decision.conflict && opts.overwrite) {
            decision = { actions: overwrite(src) };
            action = "overwrite";
        } else if (decision.conflict) action = "conflict";
        return {
            map: m,
            kind,
            rel,
            src,
            tgt: { meta: tgt },
            decision,
            report: {
                ...base,
                versions,
                action,
                written: writes(decision.actions),
                ...(decision.conflict ? { conflict: decision.conflict } : {}),
            },
        };
    }
    const [value, tgt] = await Promise.all([readV1(source, m.sourceMount, srcPath), readTarget()]);
    if (value === undefined) return undefined;
    const trusted = !!entry && !!tgt && sameTarget(entry.tgt, tgt);
    let latestSame: boolean | undefined;
    if (tgt && tgt.current > 0 && tgt.versions.get(tgt.current) === "live") {
        const t = await readVersion(target, m.targetMount, tgtPath, tgt.current);
        latestSame = t !== undefined && digest(t) === digest(value);
    }
    let decision = reconcileKv1(tgt, trusted, latestSame);
    let action: PathReport["action"] = !tgt ? "copy" : decision.actions.length ? "catch-up" : "unchanged";
    if (decision.conflict && opts.overwrite) {
        decision = { actions: overwrite("kv1") };
        action = "overwrite";
    } else if (decision.conflict) action = "conflict";
    return {
        map: m,
        kind,
        rel,
        tgt: { meta: tgt },
        decision,
        report: {
            ...base,
            versions: 1,
            action,
            written: writes(decision.actions),
            ...(decision.conflict ? { conflict: decision.conflict } : {}),
        },
    };
}

export interface PlanResult {
    planned: Planned[];
    /** Paths this tool copied before that the source no longer has. */
    removed: Planned[];
    listed: number;
}

/**
 * Source paths without a state entry from which on the target is listed once, rather than its
 * metadata read path by path (a first copy into an empty prefix reads nothing there).
 */
export const LIST_TARGET_FROM = 32;

/**
 * The secrets under the mapping's target prefix (relative to it), or undefined when this token may
 * not list them: each path's metadata is read instead.
 */
async function targetListing(target: Side, m: Mapping, concurrency: number): Promise<Set<string> | undefined> {
    try {
        return new Set(await listRecursive(target, kv2List(m.targetMount), m.targetPrefix, concurrency));
    } catch (e) {
        if ((e as { status?: number }).status === 403) return undefined;
        throw e;
    }
}

/** Read both sides and decide every path; writes nothing. */
export async function plan(source: Side, target: Side, kinds: MountKinds, o: RunOptions): Promise<PlanResult> {
    const state = loadState(o.stateFile);
    const work: { m: Mapping; kind: "kv1" | "kv2"; rel: string; targetHas?: Set<string> }[] = [];
    const listedKeys = new Set<string>();
    for (const [i, m] of o.maps.entries()) {
        const kind = kinds.source[i];
        const list = kind === "kv2" ? kv2List(m.sourceMount) : kv1List(m.sourceMount);
        const rels = await listRecursive(source, list, m.sourcePrefix, o.concurrency);
        const unknown = rels.filter((rel) => !state.entries[entryKey(m, rel)]).length;
        const targetHas = unknown >= LIST_TARGET_FROM ? await targetListing(target, m, o.concurrency) : undefined;
        for (const rel of rels) {
            work.push({ m, kind, rel, targetHas });
            listedKeys.add(entryKey(m, rel));
        }
    }
    const planned: Planned[] = [];
    o.progress.start("plan", work.length);
    await pool(work, o.concurrency, async (w) => {
        const p = await planOne(source, target, w.m, w.kind, w.rel, state, o, w.targetHas);
        if (p) planned.push(p);
        o.progress.tick();
    });
    o.progress.done();

    // Paths copied on an earlier pass that the source has since deleted (the backend's delete-metadata).
    const removed: Planned[] = [];
    for (const [key, entry] of Object.entries(state.entries)) {
        if (listedKeys.has(key)) continue;
        const [mapText, rel] = key.split("\u0000");
        const m = o.maps.find((x) => show(x) === mapText);
        if (!m) continue;
        const kind = kinds.source[o.maps.indexOf(m)];
        const tgt = await readMeta(target, m.targetMount, targetPath(m, rel));
        const base = {
            source: `${m.sourceMount}/${sourcePath(m, rel)}`,
            target: `${m.targetMount}/${targetPath(m, rel)}`,
            kind,
            versions: 0,
        };
        if (!tgt) continue;
        if (sameTarget(entry.tgt, tgt))
            removed.push({
                map: m,
                kind,
                rel,
                decision: { actions: [{ kind: "remove" }] },
                report: { ...base, action: "remove", written: 0 },
            });
        else
            removed.push({
                map: m,
                kind,
                rel,
                decision: {
                    actions: [],
                    conflict: "deleted on the source, but changed on the target since the last pass: not removed",
                },
                report: {
                    ...base,
                    action: "conflict",
                    written: 0,
                    conflict: "deleted on the source, but changed on the target since the last pass",
                },
            });
    }
    planned.sort((a, b) => a.report.source.localeCompare(b.report.source));
    return { planned, removed, listed: work.length };
}

// ---------------------------------------------------------------------------------------------
// Copy

/** Runs the decision; resolves with what each write answered (a version whose answer was lost is absent). */
async function execute(source: Side, target: Side, p: Planned): Promise<Map<number, WriteAnswer>> {
    const answers = new Map<number, WriteAnswer>();
    const m = p.map;
    const srcPath = sourcePath(m, p.rel);
    const tgtPath = targetPath(m, p.rel);
    // The source's versions are read together before the writes, which must go in order.
    const wanted = p.decision.actions.flatMap((a) => (a.kind === "write" && a.data === "source" ? [a.version] : []));
    const fetched = new Map(
        await Promise.all(
            wanted.map(async (v) => {
                const data =
                    p.kind === "kv1"
                        ? await readV1(source, m.sourceMount, srcPath)
                        : await readVersion(source, m.sourceMount, srcPath, v);
                return [v, data] as const;
            }),
        ),
    );
    for (const a of p.decision.actions as Action[]) {
        switch (a.kind) {
            case "remove":
                await deleteSecret(target, m.targetMount, tgtPath);
                break;
            case "settings":
                await writeSettings(target, m.targetMount, tgtPath, p.src!.settings);
                break;
            case "write": {
                let data = a.data === "source" ? fetched.get(a.version) : undefined;
                fetched.delete(a.version);
                // Gone on the source since the plan (deleted or destroyed meanwhile): the next pass fixes the state.
                data ??= placeholder(
                    a.version,
                    p.src ? (sourceState(p.src, a.version) === "pruned" ? "pruned" : "deleted") : "deleted",
                );
                const res = await writeVersion(target, m.targetMount, tgtPath, data, a.version - 1);
                if (res.status === 200) answers.set(a.version, parseWriteAnswer(res.body));
                if (res.status === 400) {
                    // An earlier try may have landed (an answer lost on the way back): accept it only if the
                    // target now holds exactly this version with this data.
                    const now = await readMeta(target, m.targetMount, tgtPath);
                    const landed =
                        now?.current === a.version &&
                        digest((await readVersion(target, m.targetMount, tgtPath, a.version)) ?? null) === digest(data);
                    if (!landed)
                        throw migrateError(
                            `the target refused version ${a.version} of ${m.targetMount}/${tgtPath}: it changed since the plan (check-and-set ${a.version - 1}); run again to re-plan`,
                            400,
                        );
                }
                data = undefined;
                break;
            }
            case "delete":
                await deleteVersions(target, m.targetMount, tgtPath, a.versions);
                break;
            case "destroy":
                await destroyVersions(target, m.targetMount, tgtPath, a.versions);
                break;
        }
    }
    return answers;
}

export interface CopyResult extends PlanResult {
    written: number;
    conflicts: PathReport[];
}

/**
 * Plan, refuse on conflicts (nothing written), then write. The state file is saved every two
 * seconds and at the end, so a killed run resumes from where the target is (check-and-set keeps
 * every version exactly once whatever the state file missed).
 */
export async function copy(source: Side, target: Side, kinds: MountKinds, o: RunOptions): Promise<CopyResult> {
    const planned = await plan(source, target, kinds, o);
    const all = [...planned.planned, ...planned.removed];
    const conflicts = all.filter((p) => p.decision.conflict).map((p) => p.report);
    if (conflicts.length > 0) return { ...planned, written: 0, conflicts };

    const state = loadState(o.stateFile);
    const todo = all.filter((p) => p.decision.actions.length > 0);
    // Unchanged paths get their entry too (a first pass into an identical target, or a lost state file).
    // The target's metadata after the writes is worked out from the plan's view and the writes'
    // answers; read only when those do not tell.
    const record = async (p: Planned, answers: ReadonlyMap<number, WriteAnswer> = new Map()) => {
        const key = entryKey(p.map, p.rel);
        if (p.decision.actions.some((a) => a.kind === "remove") && p.report.action === "remove") {
            delete state.entries[key];
            return;
        }
        const known = p.tgt && afterActions(p.tgt.meta, p.decision.actions, p.src?.settings, answers);
        const tgt = known ?? (await readMeta(target, p.map.targetMount, targetPath(p.map, p.rel)));
        if (tgt) state.entries[key] = { src: p.src ? fingerprint(p.src) : "", tgt: fingerprint(tgt) };
    };
    let lastSave = Date.now();
    const maybeSave = () => {
        if (Date.now() - lastSave < 2000) return;
        lastSave = Date.now();
        saveState(o.stateFile, state);
    };
    let written = 0;
    o.progress.start(
        "copy",
        todo.reduce((n, p) => n + Math.max(1, writes(p.decision.actions)), 0),
    );
    try {
        await pool(todo, o.concurrency, async (p) => {
            await record(p, await execute(source, target, p));
            const w = writes(p.decision.actions);
            written += w;
            o.progress.tick(Math.max(1, w));
            maybeSave();
        });
        const fresh = planned.planned.filter(
            (p) =>
                p.decision.actions.length === 0 &&
                p.report.action === "unchanged" &&
                !state.entries[entryKey(p.map, p.rel)]?.tgt,
        );
        await pool(fresh, o.concurrency, record);
    } finally {
        o.progress.done();
        saveState(o.stateFile, state);
    }
    return { ...planned, written, conflicts: [] };
}

// ---------------------------------------------------------------------------------------------
// Verify

export interface VerifyRow {
    mapping: string;
    paths: number;
    versions: number;
    bytes: number;
    differences: number;
}

export interface VerifyResult {
    rows: VerifyRow[];
    differences: Difference[];
    paths: number;
    versions: number;
}

/**
 * Re-read both sides and compare each path: version numbers, each version's state, the settings,
 * and every live version's data by the SHA-256 of its canonical JSON. Paths under a mapping's target
 * prefix that the source does not have are differences too.
 */
export async function verify(
    source: Side,
    target: Side,
    kinds: MountKinds,
    o: Pick<RunOptions, "maps" | "concurrency" | "progress">,
): Promise<VerifyResult> {
    const rows: VerifyRow[] = [];
    const differences: Difference[] = [];
    for (const [i, m] of o.maps.entries()) {
        const kind = kinds.source[i];
        const srcList = await listRecursive(
            source,
            kind === "kv2" ? kv2List(m.sourceMount) : kv1List(m.sourceMount),
            m.sourcePrefix,
            o.concurrency,
        );
        const others = o.maps.filter(
            (x) =>
                x !== m &&
                x.targetMount === m.targetMount &&
                x.targetPrefix.startsWith(m.targetPrefix ? `${m.targetPrefix}/` : ""),
        );
        const tgtList = (await listRecursive(target, kv2List(m.targetMount), m.targetPrefix, o.concurrency)).filter(
            (rel) => !others.some((x) => targetPath(m, rel).startsWith(`${x.targetPrefix}/`)),
        );
        const row: VerifyRow = { mapping: show(m), paths: srcList.length, versions: 0, bytes: 0, differences: 0 };
        const diff = (d: Difference) => {
            differences.push(d);
            row.differences++;
        };
        const srcSet = new Set(srcList);
        for (const rel of tgtList)
            if (!srcSet.has(rel)) diff({ path: `${m.targetMount}/${targetPath(m, rel)}`, what: "only on the target" });
        o.progress.start(`verify ${show(m)}`, srcList.length);
        await pool(srcList, o.concurrency, async (rel) => {
            const where = `${m.sourceMount}/${sourcePath(m, rel)}`;
            const tgtPath = targetPath(m, rel);
            const tgt = await readMeta(target, m.targetMount, tgtPath);
            if (kind === "kv1") {
                const v = await readV1(source, m.sourceMount, sourcePath(m, rel));
                row.versions++;
                row.bytes += v ? Buffer.byteLength(JSON.stringify(v)) : 0;
                if (!tgt || tgt.current === 0) diff({ path: where, what: "missing on the target" });
                else {
                    const t = await readVersion(target, m.targetMount, tgtPath, tgt.current);
                    if (!t || !v || digest(t) !== digest(v))
                        diff({ path: where, version: tgt.current, what: "the target's latest version differs" });
                }
                o.progress.tick();
                return;
            }
            const src = await readMeta(source, m.sourceMount, sourcePath(m, rel));
            if (!src) return o.progress.tick();
            row.versions += src.versions.size;
            if (!tgt) {
                diff({ path: where, what: "missing on the target" });
                return o.progress.tick();
            }
            if (tgt.current !== src.current)
                diff({
                    path: where,
                    what: `current version ${src.current} on the source, ${tgt.current} on the target`,
                });
            if (!sameSettings(src.settings, tgt.settings))
                diff({
                    path: where,
                    what: "settings differ (max_versions, cas_required, delete_version_after or custom_metadata)",
                });
            for (const [v, s] of src.versions) {
                const t = tgt.versions.get(v);
                if (t !== s) {
                    diff({ path: where, version: v, what: `${s} on the source, ${t ?? "absent"} on the target` });
                    continue;
                }
                if (s !== "live") continue;
                const [a, b] = await Promise.all([
                    readVersion(source, m.sourceMount, sourcePath(m, rel), v),
                    readVersion(target, m.targetMount, tgtPath, v),
                ]);
                row.bytes += a ? Buffer.byteLength(JSON.stringify(a)) : 0;
                if (!a || !b || digest(a) !== digest(b)) diff({ path: where, version: v, what: "data differs" });
            }
            for (const [v, t] of tgt.versions)
                if (!src.versions.has(v) && v >= src.oldest && t === "live")
                    diff({ path: where, version: v, what: "live on the target only" });
            o.progress.tick();
        });
        o.progress.done();
        rows.push(row);
    }
    differences.sort((a, b) => a.path.localeCompare(b.path) || (a.version ?? 0) - (b.version ?? 0));
    return {
        rows,
        differences,
        paths: rows.reduce((n, r) => n + r.paths, 0),
        versions: rows.reduce((n, r) => n + r.versions, 0),
    };
}
