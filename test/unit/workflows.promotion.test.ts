/** Promotion: prod takes only the image (and commit) staging verified. Pure rule + the script, with a fake CLI. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../components/config";
import { promotionProblems, promotionSection } from "../../components/config/promotion";
import { parseArgs, promote } from "../../scripts/promote";

const IMG = "hashicorp/vault:1.21.1";
const SHA = "a".repeat(40);

describe("promotionProblems", () => {
    it("allows exactly the verified image and commit", () => {
        assert.deepEqual(promotionProblems("staging", IMG, { verifiedImage: IMG, verifiedCommit: SHA }, SHA), []);
    });
    it("refuses an image staging did not verify, naming both", () => {
        assert.deepEqual(promotionProblems("staging", "hashicorp/vault:1.21.2", { verifiedImage: IMG }), [
            `image hashicorp/vault:1.21.2 is not the image staging verified (${IMG}); set bonito-vault:image to ${IMG} or deploy hashicorp/vault:1.21.2 to staging first`,
        ]);
    });
    it("refuses when staging exports nothing verified", () => {
        assert.match(promotionProblems("staging", IMG, {})[0], /exports no verifiedImage/);
    });
    it("refuses another commit", () => {
        assert.match(
            promotionProblems("staging", IMG, { verifiedImage: IMG, verifiedCommit: "b".repeat(40) }, SHA)[0],
            /not the commit staging verified/,
        );
    });
});

describe("promotion config section", () => {
    const ctx = (stack: string, issues: string[]) => ({
        stack,
        prod: stack === "prod",
        issue: (k: string, m: string) => issues.push(`${k} ${m}`),
    });
    it("prod promotes from staging by default; other stacks have no gate", () => {
        const issues: string[] = [];
        assert.deepEqual(promotionSection.build({}, ctx("prod", issues), {}), {
            promotion: { from: "staging", sourceCommit: undefined },
        });
        assert.deepEqual(promotionSection.build({}, ctx("staging", issues), {}), {
            promotion: { from: undefined, sourceCommit: undefined },
        });
        assert.deepEqual(issues, []);
    });
    it("refuses promoting a stack from itself", () => {
        const issues: string[] = [];
        promotionSection.build({ promoteFrom: "org/bonito-vault/prod" }, ctx("prod", issues), {});
        assert.deepEqual(issues, ["promoteFrom names this stack itself; promote from another stack"]);
    });
    it("rejects a malformed sourceCommit through loadConfig", () => {
        assert.throws(
            () =>
                loadConfig("staging", {
                    "bonito-vault:cloud": "local",
                    "bonito-vault:image": IMG,
                    "bonito-vault:sourceCommit": "abc",
                }),
            /bonito-vault:sourceCommit must be a 40-character git commit id/,
        );
    });
});

describe("scripts/promote.ts", () => {
    const fake =
        (outputs: object, prodImage: string, calls: string[][] = []) =>
        (args: string[]) => {
            calls.push(args);
            if (args[0] === "stack") return JSON.stringify(outputs);
            if (args[0] === "config" && args[1] === "get") return `${prodImage}\n`;
            return "";
        };
    it("parses its flags", () => {
        assert.deepEqual(parseArgs(["--from", "staging", "--to", "prod", "--commit", SHA]), {
            from: "staging",
            to: "prod",
            commit: SHA,
            write: false,
        });
        assert.throws(() => parseArgs(["--from", "prod", "--to", "prod"]), /same stack/);
    });
    it("allows the verified image", () => {
        assert.deepEqual(
            promote(parseArgs(["--commit", SHA]), fake({ verifiedImage: IMG, verifiedCommit: SHA }, IMG)),
            [],
        );
    });
    it("refuses an unverified image and writes nothing", () => {
        const calls: string[][] = [];
        assert.equal(promote(parseArgs([]), fake({ verifiedImage: IMG }, "hashicorp/vault:1.22.0", calls)).length, 1);
        assert.ok(!calls.some((c) => c[1] === "set"));
    });
    it("with --write sets prod's image to the verified one, never another value", () => {
        const calls: string[][] = [];
        assert.deepEqual(
            promote(parseArgs(["--write"]), fake({ verifiedImage: IMG }, "hashicorp/vault:1.22.0", calls)),
            [],
        );
        assert.deepEqual(calls.at(-1), ["config", "set", "bonito-vault:image", IMG, "--stack", "prod"]);
    });
});
