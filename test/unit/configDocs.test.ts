/**
 * Pulumi.yaml's config block and docs/configuration.md's key table are generated from the key table
 * in components/config. Proves: neither has drifted (run `npm run docs` to regenerate), and README.md
 * stays the short entry point that links there.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { allKeys } from "../../components/config";
import { CONFIG_DOC, TABLE_START, docWithTable, renderPulumiYaml } from "../../scripts/configDocs";

const ROOT = path.join(__dirname, "..", "..");

describe("generated config docs", () => {
    it("Pulumi.yaml declares every key with its type, description and default", () => {
        assert.equal(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"), renderPulumiYaml(), "run npm run docs");
        const doc = parse(renderPulumiYaml()) as {
            name: string;
            config: Record<string, { type: string; default?: unknown }>;
        };
        assert.equal(doc.name, "bonito-vault");
        assert.deepEqual(
            Object.keys(doc.config),
            Object.keys(allKeys()).map((k) => `bonito-vault:${k}`),
        );
        assert.equal(doc.config["bonito-vault:nodes"].default, 3);
        assert.equal(doc.config["bonito-vault:cloud"].default, undefined);
    });

    it("docs/configuration.md lists every key with its default", () => {
        const doc = fs.readFileSync(path.join(ROOT, CONFIG_DOC), "utf8");
        assert.equal(doc, docWithTable(doc), "run npm run docs");
        for (const key of Object.keys(allKeys())) assert.ok(doc.includes(`| \`${key}\` |`), key);
    });

    it("README.md stays at most 200 lines, links the reference and holds no key table", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.ok(readme.split("\n").length <= 200, `${readme.split("\n").length} lines`);
        assert.ok(readme.includes(`](${CONFIG_DOC})`));
        assert.ok(!readme.includes(TABLE_START));
        assert.doesNotMatch(readme, /\]\(\.\.\//, "a link out of the repository");
    });

    it("every committed stack uses only known keys", () => {
        for (const stack of ["staging", "prod", "local"]) {
            const doc = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
                config: Record<string, unknown>;
            };
            for (const key of Object.keys(doc.config)) {
                if (!key.startsWith("bonito-vault:")) continue;
                assert.ok(key.slice("bonito-vault:".length) in allKeys(), `${stack}: ${key}`);
            }
        }
    });
});
