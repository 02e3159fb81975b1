/**
 * The config layer's types: each area's values are typed from the parsers its keys are declared
 * with, so a build that reads a misspelt key, another area's key, or an optional key as if it had a
 * default fails `tsc`.
 *
 * Proves (at type level, checked by `npm run build`, whose tsconfig includes test/**): every
 * `@ts-expect-error` below is an error, so if the values were loosened back to
 * `Record<string, unknown>` (or to `any`) the directive would be unused and `tsc` would fail.
 * node:test does not type-check; the runtime cases prove what `sectionValues` hands a build:
 * defaults applied, unset optional keys undefined, other areas' keys left out.
 * Does not prove: that each build applies the right rules (config*.test.ts and the area tests do).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sectionValues, type CoreConfig, type SectionValues } from "../../components/config";
import { coreSection } from "../../components/config/core";
import { monitoringSection } from "../../components/config/monitoring";
import { settingsSection } from "../../components/config/settings";
import { unsealSection } from "../../components/config/unseal";

type Unseal = SectionValues<typeof unsealSection.keys>;
type Core = SectionValues<typeof coreSection.keys>;

/** Never called: only `tsc` reads it. */
export function typeChecks(u: Unseal, c: Core, config: CoreConfig): unknown[] {
    // A key with a default is never undefined; one without may be.
    const period: string = u.localTokenPeriod;
    const nodes: number = c.nodes;
    const region: string | undefined = u.awsRegion;
    // @ts-expect-error misspelt key (the example of issue 15)
    const misspelt = u.localTokenPerod;
    // @ts-expect-error a core key is not among the unseal area's values
    const other = u.nodes;
    // @ts-expect-error awsRegion has no default: it may be undefined
    const regionRequired: string = u.awsRegion;
    // @ts-expect-error nodes is a number
    const nodesText: string = c.nodes;
    // @ts-expect-error oneOf values are typed to their set
    const storage: "raft" = c.storage;
    // A build must accept exactly its area's values: another area's do not fit.
    // @ts-expect-error core's values are not the unseal area's
    unsealSection.build(c, { stack: "local", prod: false, issue: () => undefined }, config);
    return [period, nodes, region, misspelt, other, regionRequired, nodesText, storage];
}

describe("sectionValues", () => {
    it("applies each key's default and leaves optional keys undefined", () => {
        const v = sectionValues(unsealSection.keys, {});
        assert.equal(v.localTokenPeriod, "720h");
        assert.equal(v.keyRotationDays, 90);
        assert.equal(v.awsIdentity, "role");
        assert.deepEqual(v.azureAllowedIps, []);
        assert.equal(v.awsRegion, undefined);
        assert.equal(v.azureClientSecret, undefined);
    });

    it("hands a build only its own area's keys, parsed", () => {
        const v = sectionValues(settingsSection.keys, {
            kvMount: "apps",
            recoveryShares: "5",
            cloud: "aws",
            nodes: "5",
        });
        assert.equal(v.kvMount, "apps");
        assert.equal(v.recoveryShares, 5);
        assert.ok(!("cloud" in v) && !("nodes" in v));
    });

    it("throws on a value that does not parse (loadConfig reports those before any build)", () => {
        assert.throws(() => sectionValues(monitoringSection.keys, { monitoring: "both" }), /must be one of/);
    });
});
