/**
 * The census check shared by test/mocks/census-<variant>.test.ts (one file per variant: the mock
 * runtime is global to a process). Fails with the first differences and how to accept them.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { it } from "node:test";
import { census, fixturePath } from "./census";

/** Paths (a.b[2].c) where two JSON values differ, at most `limit` of them. */
export function differences(a: unknown, b: unknown, at = "", out: string[] = [], limit = 20): string[] {
    if (out.length >= limit) return out;
    if (JSON.stringify(a) === JSON.stringify(b)) return out;
    const isObj = (x: unknown) => typeof x === "object" && x !== null;
    if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) {
        out.push(`${at || "(root)"}: ${JSON.stringify(a)?.slice(0, 200)} → ${JSON.stringify(b)?.slice(0, 200)}`);
        return out;
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keyOf = (x: unknown, i: string) => {
        const r = x as { type?: string; name?: string };
        return r && r.type && r.name ? `${r.type}::${r.name}` : i;
    };
    if (Array.isArray(a) && Array.isArray(b) && a.every((x) => keyOf(x, "") !== "")) {
        // Resources: pair by type and name, so one added resource does not shift every row.
        const ma = new Map(a.map((x) => [keyOf(x, ""), x]));
        const mb = new Map((b as unknown[]).map((x) => [keyOf(x, ""), x]));
        for (const k of new Set([...ma.keys(), ...mb.keys()]))
            differences(ma.get(k), mb.get(k), `${at}[${k}]`, out, limit);
        return out;
    }
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)]))
        differences(ra[k], rb[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`, out, limit);
    return out;
}

export function describeCensus(variant: string): void {
    it(`the ${variant} census is the committed test/census/${variant}.json`, async () => {
        const expected: unknown = JSON.parse(fs.readFileSync(fixturePath(variant), "utf8"));
        const actual = JSON.parse(JSON.stringify(await census(variant))) as unknown;
        const diff = differences(expected, actual);
        assert.equal(
            diff.length,
            0,
            `the declared resources of ${variant} changed (committed → now):\n  ${diff.join("\n  ")}\n` +
                "A deliberate change: `npm run census` rewrites the fixtures; review and commit their diff, " +
                "and say in the commit why each changed resource changes (a renamed or re-parented resource " +
                "is replaced in every deployed stack unless it gets an alias).",
        );
    });
}
