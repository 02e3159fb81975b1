/**
 * `npm run migrate`'s pure parts: the mapping syntax, path encoding, the digest, the command line's
 * refusals, and the per-secret decision for every case a copy meets (fresh, resumed after a kill,
 * catch-up, conflict, overwrite).
 *
 * What this does not prove: that Vault answers as `parseMeta` expects, that check-and-set refuses a
 * duplicate version, or that nothing reaches the disk: test/conformance/migrate.test.ts runs the
 * tool against real Vault 1.21.1 servers for that.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { checkAddr, parseLoginFile, parseMigrateArgs, readPrivateFile } from "../../scripts/migrate/args";
import { parseMeta, type Meta } from "../../scripts/migrate/kv";
import {
    canonicalJson,
    checkMappings,
    digest,
    encodePath,
    isPlaceholder,
    parseMapping,
    placeholder,
    targetPath,
} from "../../scripts/migrate/paths";
import {
    afterActions,
    fingerprint,
    freshCopy,
    overwrite,
    reconcileKv1,
    reconcileKv2,
    sameTarget,
    type Action,
    type Probes,
} from "../../scripts/migrate/reconcile";

/** A metadata response as Vault 1.21.1 gives it (shape from the KV v2 API docs' sample response). */
function metaBody(
    current: number,
    versions: Record<number, "live" | "deleted" | "destroyed">,
    extra: Record<string, unknown> = {},
) {
    return {
        data: {
            cas_required: false,
            created_time: "2026-01-01T00:00:00Z",
            current_version: current,
            custom_metadata: null,
            delete_version_after: "0s",
            max_versions: 0,
            oldest_version: Math.min(...Object.keys(versions).map(Number)),
            updated_time: "2026-01-02T00:00:00Z",
            versions: Object.fromEntries(
                Object.entries(versions).map(([v, s]) => [
                    v,
                    {
                        created_time: "2026-01-01T00:00:00Z",
                        deletion_time: s === "deleted" ? "2026-01-03T00:00:00Z" : "",
                        destroyed: s === "destroyed",
                    },
                ]),
            ),
            ...extra,
        },
    };
}

const meta = (current: number, versions: Record<number, "live" | "deleted" | "destroyed">, extra = {}): Meta =>
    parseMeta(metaBody(current, versions, extra));

/** Probes that answer from fixed tables and record what was asked. */
function probes(same: Record<number, boolean> = {}, placeholders: number[] = []): Probes & { asked: string[] } {
    const asked: string[] = [];
    return {
        asked,
        sameData: async (v) => {
            asked.push(`same ${v}`);
            return same[v] ?? true;
        },
        targetPlaceholder: async (v) => {
            asked.push(`placeholder ${v}`);
            return placeholders.includes(v);
        },
    };
}

describe("migrate: mappings, paths and digests", () => {
    it("parses source and target mounts with optional prefixes", () => {
        assert.deepEqual(parseMapping("secret=bonito"), {
            sourceMount: "secret",
            sourcePrefix: "",
            targetMount: "bonito",
            targetPrefix: "",
        });
        assert.deepEqual(parseMapping("kv/app/prod/=bonito/legacy"), {
            sourceMount: "kv",
            sourcePrefix: "app/prod",
            targetMount: "bonito",
            targetPrefix: "legacy",
        });
        assert.equal(targetPath(parseMapping("kv/app=bonito/legacy"), "a/b"), "legacy/a/b");
        assert.equal(targetPath(parseMapping("kv=bonito"), "a/b"), "a/b");
    });

    it("refuses a malformed map and overlapping targets, naming the values", () => {
        assert.throws(
            () => parseMapping("secret"),
            /--map secret: expected <source mount>\[\/<prefix>\]=<target mount>/,
        );
        assert.throws(() => parseMapping("=bonito"), /--map =bonito: expected/);
        assert.throws(() => parseMapping("se cret=bonito"), /the source mount "se cret" is not a mount path/);
        assert.throws(
            () => checkMappings([parseMapping("a=bonito"), parseMapping("b=bonito/legacy")]),
            /--map a=bonito and --map b=bonito\/legacy overlap on the target/,
        );
        assert.doesNotThrow(() => checkMappings([parseMapping("a=bonito/one"), parseMapping("b=bonito/two")]));
        assert.throws(() => checkMappings([]), /no --map given/);
    });

    it("percent-encodes each segment: spaces, unicode, ? and # survive the URL", () => {
        assert.equal(encodePath("team a/ünï?#/x"), "team%20a/%C3%BCn%C3%AF%3F%23/x");
    });

    it("digests canonical JSON: key order does not matter, values and nesting do", () => {
        assert.equal(
            canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }),
            '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
        );
        assert.equal(digest({ a: 1, b: 2 }), digest({ b: 2, a: 1 }));
        assert.notEqual(digest({ a: 1 }), digest({ a: "1" }));
        assert.notEqual(digest({ a: [1, 2] }), digest({ a: [2, 1] }));
    });

    it("recognises only its own placeholders", () => {
        assert.equal(isPlaceholder(placeholder(3, "destroyed")), true);
        assert.equal(
            isPlaceholder({
                "bonito-migrate": "placeholder for version 3: deleted on the source, data not copied",
                other: "x",
            }),
            false,
        );
        assert.equal(isPlaceholder({ "bonito-migrate": "a real value" }), false);
        assert.equal(isPlaceholder(undefined), false);
    });
});

describe("migrate: reading Vault's metadata", () => {
    it("maps each version to live, deleted or destroyed and normalises the settings", () => {
        const m = meta(
            3,
            { 1: "destroyed", 2: "deleted", 3: "live" },
            { custom_metadata: { owner: "payments" }, delete_version_after: "" },
        );
        assert.equal(m.current, 3);
        assert.equal(m.oldest, 1);
        assert.deepEqual(
            [...m.versions.entries()],
            [
                [1, "destroyed"],
                [2, "deleted"],
                [3, "live"],
            ],
        );
        assert.deepEqual(m.settings, {
            max_versions: 0,
            cas_required: false,
            delete_version_after: "0s",
            custom_metadata: { owner: "payments" },
        });
    });

    it("fingerprints metadata only: a version's deletion changes it, nothing in it is a value", () => {
        const a = meta(2, { 1: "live", 2: "live" });
        const b = meta(2, { 1: "deleted", 2: "live" });
        assert.notEqual(fingerprint(a), fingerprint(b));
        assert.equal(fingerprint(a), fingerprint(meta(2, { 1: "live", 2: "live" })));
        assert.equal(fingerprint(a), '[2,1,"2026-01-02T00:00:00Z","1:live,2:live",0,false,"0s",[]]');
    });
});

describe("migrate: what happens to one KV v2 secret", () => {
    it("fresh copy: every version in order, then soft-deletes and destroys to match", () => {
        const src = meta(4, { 1: "destroyed", 2: "live", 3: "deleted", 4: "live" }, { custom_metadata: { team: "a" } });
        assert.deepEqual(freshCopy(src), [
            { kind: "settings" },
            { kind: "write", version: 1, data: "placeholder" },
            { kind: "write", version: 2, data: "source" },
            { kind: "write", version: 3, data: "placeholder" },
            { kind: "write", version: 4, data: "source" },
            { kind: "delete", versions: [3] },
            { kind: "destroy", versions: [1] },
        ]);
    });

    it("versions pruned on the source (below oldest_version) are written as placeholders and destroyed", () => {
        const src = meta(5, { 4: "live", 5: "live" }, { oldest_version: 4, max_versions: 2 });
        assert.deepEqual(freshCopy(src), [
            { kind: "settings" },
            { kind: "write", version: 1, data: "placeholder" },
            { kind: "write", version: 2, data: "placeholder" },
            { kind: "write", version: 3, data: "placeholder" },
            { kind: "write", version: 4, data: "source" },
            { kind: "write", version: 5, data: "source" },
            { kind: "destroy", versions: [1, 2, 3] },
        ]);
    });

    it("a secret with default settings gets no settings write; a metadata-only secret does", () => {
        assert.deepEqual(freshCopy(meta(1, { 1: "live" })), [{ kind: "write", version: 1, data: "source" }]);
        assert.deepEqual(freshCopy(parseMeta({ data: { current_version: 0, oldest_version: 0, versions: {} } })), [
            { kind: "settings" },
        ]);
    });

    it("resume after a kill: versions already on the target are compared by data, the rest written after them", async () => {
        const src = meta(3, { 1: "live", 2: "live", 3: "live" });
        const tgt = meta(2, { 1: "live", 2: "live" });
        const p = probes();
        assert.deepEqual(await reconcileKv2(src, tgt, false, p), {
            actions: [{ kind: "write", version: 3, data: "source" }],
        });
        assert.deepEqual(p.asked, ["same 1", "same 2"]);
    });

    it("resume after a kill between a placeholder's write and its deletion: the deletion is finished", async () => {
        const src = meta(2, { 1: "live", 2: "deleted" });
        const tgt = meta(2, { 1: "live", 2: "live" });
        const p = probes({}, [2]);
        assert.deepEqual(await reconcileKv2(src, tgt, false, p), { actions: [{ kind: "delete", versions: [2] }] });
        assert.deepEqual(p.asked, ["same 1", "placeholder 2"]);
    });

    it("catch-up on a target as this tool left it: no data reads, new versions appended, new deletions applied", async () => {
        const src = meta(4, { 1: "live", 2: "deleted", 3: "destroyed", 4: "live" });
        const tgt = meta(3, { 1: "live", 2: "live", 3: "live" });
        const p = probes();
        assert.deepEqual(await reconcileKv2(src, tgt, true, p), {
            actions: [
                { kind: "write", version: 4, data: "source" },
                { kind: "delete", versions: [2] },
                { kind: "destroy", versions: [3] },
            ],
        });
        assert.deepEqual(p.asked, []);
    });

    it("nothing changed: no action", async () => {
        const src = meta(2, { 1: "deleted", 2: "live" });
        assert.deepEqual(await reconcileKv2(src, meta(2, { 1: "deleted", 2: "live" }), false, probes()), {
            actions: [],
        });
    });

    it("settings that differ are written, nothing else", async () => {
        const src = meta(1, { 1: "live" }, { cas_required: true, max_versions: 5 });
        assert.deepEqual(await reconcileKv2(src, meta(1, { 1: "live" }), true, probes()), {
            actions: [{ kind: "settings" }],
        });
    });

    it("conflicts: different data, more versions on the target, a live version deleted there, data not written by this tool", async () => {
        const src = meta(2, { 1: "live", 2: "live" });
        assert.deepEqual(await reconcileKv2(src, meta(1, { 1: "live" }), false, probes({ 1: false })), {
            actions: [],
            conflict: "version 1 holds different data on the target",
        });
        assert.deepEqual(await reconcileKv2(src, meta(3, { 1: "live", 2: "live", 3: "live" }), true, probes()), {
            actions: [],
            conflict: "the target is at version 3, the source only at 2",
        });
        assert.deepEqual(await reconcileKv2(src, meta(2, { 1: "live", 2: "deleted" }), true, probes()), {
            actions: [],
            conflict: "version 2 is deleted on the target but live on the source",
        });
        assert.deepEqual(await reconcileKv2(meta(1, { 1: "deleted" }), meta(1, { 1: "live" }), false, probes({}, [])), {
            actions: [],
            conflict: "version 1 is deleted on the source but holds data on the target that this tool did not write",
        });
    });

    it("--overwrite removes the target secret, then copies afresh", () => {
        assert.deepEqual(overwrite(meta(1, { 1: "live" })), [
            { kind: "remove" },
            { kind: "write", version: 1, data: "source" },
        ]);
        assert.deepEqual(overwrite("kv1"), [{ kind: "remove" }, { kind: "write", version: 1, data: "source" }]);
    });
});

describe("migrate: the target after a pass, from the writes' answers", () => {
    /** What Vault answers to a KV v2 write: its version's created_time and deletion_time. */
    const answers = (...vs: [number, string, string?][]) =>
        new Map(
            vs.map(([version, created, deletion = ""]) => [
                version,
                { version, created_time: created, deletion_time: deletion },
            ]),
        );
    const T = (n: number) => `2026-01-02T00:00:0${n}.123456789Z`;

    it("a fresh copy: the metadata Vault then shows (updated_time is the last version's created_time)", () => {
        const src = meta(3, { 1: "live", 2: "deleted", 3: "live" });
        const got = afterActions(undefined, freshCopy(src), src.settings, answers([1, T(1)], [2, T(2)], [3, T(3)]));
        const read = meta(3, { 1: "live", 2: "deleted", 3: "live" }, { oldest_version: 0, updated_time: T(3) });
        assert.equal(fingerprint(got!), fingerprint(read));
    });

    it("a catch-up starts from the target the plan read; deletions and destructions keep updated_time", () => {
        const before = meta(2, { 1: "live", 2: "live" }, { oldest_version: 0 });
        const actions: Action[] = [
            { kind: "write", version: 3, data: "source" },
            { kind: "delete", versions: [1] },
            { kind: "destroy", versions: [2, 3] },
        ];
        const got = afterActions(before, actions, undefined, answers([3, T(3)]));
        const read = meta(
            3,
            { 1: "deleted", 2: "destroyed", 3: "destroyed" },
            { oldest_version: 0, updated_time: T(3) },
        );
        assert.equal(fingerprint(got!), fingerprint(read));
        // Deletions alone: updated_time stays the plan's.
        const del = afterActions(before, [{ kind: "delete", versions: [2] }], undefined, new Map());
        assert.equal(fingerprint(del!), fingerprint(meta(2, { 1: "live", 2: "deleted" }, { oldest_version: 0 })));
        // A destroyed version is not deleted again; a version the target no longer has is left out.
        const gone = afterActions(
            meta(3, { 2: "destroyed", 3: "live" }),
            [{ kind: "delete", versions: [1, 2] }],
            undefined,
            new Map(),
        );
        assert.deepEqual(
            [...gone!.versions],
            [
                [2, "destroyed"],
                [3, "live"],
            ],
        );
    });

    it("a version written with a deletion time in the future (delete_version_after) is live; one already past is deleted", () => {
        const now = Date.parse("2026-01-02T00:00:00Z");
        const got = afterActions(
            undefined,
            [
                { kind: "write", version: 1, data: "source" },
                { kind: "write", version: 2, data: "source" },
            ],
            undefined,
            answers([1, T(1), "2026-01-01T00:00:00Z"], [2, T(2), "2026-02-01T00:00:00Z"]),
            now,
        );
        assert.deepEqual(
            [...got!.versions],
            [
                [1, "deleted"],
                [2, "live"],
            ],
        );
    });

    it("unknown (read back instead) when an answer is missing or a new secret got only its settings", () => {
        const src = meta(2, { 1: "live", 2: "live" });
        assert.equal(afterActions(undefined, freshCopy(src), src.settings, answers([1, T(1)])), undefined);
        assert.equal(afterActions(undefined, freshCopy(src), src.settings, answers([1, T(1)], [2, ""])), undefined);
        const metaOnly = parseMeta({ data: { current_version: 0, oldest_version: 0, versions: {}, max_versions: 3 } });
        assert.equal(afterActions(undefined, freshCopy(metaOnly), metaOnly.settings, new Map()), undefined);
        // Settings on a secret that exists keep its updated_time.
        const existing = meta(1, { 1: "live" });
        const s = afterActions(existing, [{ kind: "settings" }], metaOnly.settings, new Map());
        assert.equal(s!.updated, existing.updated);
        assert.equal(s!.settings.max_versions, 3);
        // --overwrite: removed, then copied afresh.
        const o = afterActions(existing, overwrite(meta(1, { 1: "live" })), undefined, answers([1, T(1)]));
        assert.equal(o!.updated, T(1));
        assert.deepEqual([...o!.versions], [[1, "live"]]);
    });

    it("the target as this tool left it, pruning by max_versions aside; any other change is seen", () => {
        const left = meta(12, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [i + 1, "live"])), {
            oldest_version: 0,
        });
        const recorded = fingerprint(left);
        assert.ok(sameTarget(recorded, left));
        // Vault kept the last 10 (its default max_versions): oldest_version 3, versions 1 and 2 gone.
        const pruned = meta(12, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 3, "live"])), {
            oldest_version: 3,
        });
        assert.ok(sameTarget(recorded, pruned));
        // Version 10 written with the default of 10 kept every version but moved oldest_version to 1.
        const ten = (extra = {}) =>
            meta(10, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 1, "live"])), {
                oldest_version: 0,
                ...extra,
            });
        assert.ok(sameTarget(fingerprint(ten()), ten({ oldest_version: 1 })));
        // Changes by someone else are not pruning.
        const changed = (extra: Record<string, unknown>, versions?: Record<number, "live" | "deleted" | "destroyed">) =>
            meta(12, versions ?? Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 3, "live"])), {
                oldest_version: 3,
                ...extra,
            });
        assert.ok(!sameTarget(recorded, changed({ updated_time: "2026-02-01T00:00:00Z" })), "re-created or written");
        assert.ok(!sameTarget(recorded, changed({ current_version: 13 })), "a new version");
        assert.ok(!sameTarget(recorded, changed({ max_versions: 4 })), "settings");
        assert.ok(
            !sameTarget(
                recorded,
                changed(
                    {},
                    { ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 3, "live"])), 12: "deleted" },
                ),
            ),
            "a deletion",
        );
        // A version missing above the new oldest_version was not pruned.
        assert.ok(
            !sameTarget(
                recorded,
                changed({}, Object.fromEntries(Array.from({ length: 9 }, (_, i) => [i + 4, "live"]))),
            ),
        );
        // A version the record never had.
        assert.ok(
            !sameTarget(
                fingerprint(meta(2, { 1: "live", 2: "live" }, { oldest_version: 0 })),
                meta(2, { 1: "live", 2: "live", 3: "live" }, { oldest_version: 0 }),
            ),
        );
        assert.ok(!sameTarget("not a fingerprint", left));
    });
});

describe("migrate: what happens to one KV v1 secret", () => {
    it("becomes version 1; later changes become new versions only on a target this tool left as it was", () => {
        assert.deepEqual(reconcileKv1(undefined, false, undefined), {
            actions: [{ kind: "write", version: 1, data: "source" }],
        });
        assert.deepEqual(reconcileKv1(meta(1, { 1: "live" }), false, true), { actions: [] });
        assert.deepEqual(reconcileKv1(meta(1, { 1: "live" }), true, false), {
            actions: [{ kind: "write", version: 2, data: "source" }],
        });
        assert.deepEqual(reconcileKv1(meta(1, { 1: "live" }), false, false), {
            actions: [],
            conflict: "the target's latest version 1 holds different data",
        });
    });
});

describe("migrate: the command line", () => {
    it("takes the subcommand, addresses and maps", () => {
        const a = parseMigrateArgs([
            "copy",
            "--source-addr",
            "http://127.0.0.1:8200",
            "--map",
            "secret=bonito",
            "--concurrency",
            "8",
        ]);
        assert.equal(a.command, "copy");
        assert.equal(a.concurrency, 8);
        assert.equal(a.maps.length, 1);
        assert.equal(a.verifyAfterCopy, true);
    });

    it("refuses credentials on the command line, unknown words and bad values, naming them", () => {
        assert.throws(
            () => parseMigrateArgs(["copy", "--source-addr", "x", "--map", "a=b", "--token", "s.x"]),
            /--token is not accepted: a credential on the command line/,
        );
        assert.throws(
            () => parseMigrateArgs(["copy", "--source-addr", "x", "--map", "a=b", "--target-token", "s.x"]),
            /--target-token is not accepted/,
        );
        assert.throws(() => parseMigrateArgs(["sync"]), /the first word must be plan, copy or verify \(got "sync"\)/);
        assert.throws(() => parseMigrateArgs(["copy", "--map", "a=b"]), /--source-addr is required/);
        assert.throws(
            () => parseMigrateArgs(["copy", "--source-addr", "x", "--map", "a=b", "--concurrency", "0"]),
            /--concurrency 0: expected a whole number from 1 to 256/,
        );
        assert.throws(
            () => parseMigrateArgs(["copy", "--source-addr", "x", "--map", "a=b", "--bogus"]),
            /unknown option --bogus/,
        );
    });

    it("plain http only to loopback or with --allow-http", () => {
        assert.equal(checkAddr("--source-addr", "http://127.0.0.1:8200/", false), "http://127.0.0.1:8200");
        assert.equal(checkAddr("--source-addr", "http://localhost:8200", false), "http://localhost:8200");
        assert.throws(
            () => checkAddr("--source-addr", "http://vault.railway.internal:8200", false),
            /--source-addr http:\/\/vault.railway.internal:8200: plain http to a non-loopback address/,
        );
        assert.equal(
            checkAddr("--source-addr", "http://vault.railway.internal:8200", true),
            "http://vault.railway.internal:8200",
        );
        assert.throws(() => checkAddr("--target-addr", "vault:8200", false), /expected an http\(s\) URL|not a URL/);
    });

    it("credential files must be 0600 (or stricter)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrate-args-"));
        try {
            const f = path.join(dir, "token");
            fs.writeFileSync(f, "hvs.test\n", { mode: 0o644 });
            fs.chmodSync(f, 0o644);
            assert.throws(
                () => readPrivateFile("--source-token-file", f),
                /readable by group or others \(mode 644\); a credential file must be 0600/,
            );
            fs.chmodSync(f, 0o600);
            assert.equal(readPrivateFile("--source-token-file", f), "hvs.test\n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the login file is the migrationLogin output; an empty one says to set migrationWindow", () => {
        const login = {
            addr: "https://127.0.0.1:8200",
            tlsServerName: "n0",
            caCert: "",
            approleMount: "approle",
            roleId: "r",
            secretId: "s",
            kvMount: "bonito",
        };
        assert.deepEqual(parseLoginFile("--target-login-file", JSON.stringify(login)), login);
        assert.throws(
            () => parseLoginFile("--target-login-file", "{}"),
            /lacks addr, approleMount, roleId, secretId, kvMount; is migrationWindow set on the stack/,
        );
    });
});

describe("migrate: the progress line", () => {
    it("draws done/total, rate and ETA on one terminal line, at most five times a second, and ends with a newline", async () => {
        const { terminalProgress } = await import("../../scripts/migrate");
        let now = 0;
        const written: string[] = [];
        const tty = { write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream;
        const p = terminalProgress(tty, () => now);
        p.start("copy", 100);
        now = 1000;
        p.tick(25);
        now = 1100;
        p.tick(25); // within 200 ms of the last draw: not drawn
        now = 2000;
        p.tick(50);
        p.done();
        assert.deepEqual(written, [
            "\rcopy: 25/100  25/s  ETA 3s   ",
            "\rcopy: 100/100  50/s  ETA 0s   ",
            "\rcopy: 100/100  50/s  ETA 0s   ",
            "\n",
        ]);
    });
});
