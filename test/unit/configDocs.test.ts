/**
 * Pulumi.yaml's config block and README's key table are generated from the key table in
 * components/config. Proves: neither has drifted (run `npm run docs` to regenerate).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { allKeys } from "../../components/config";
import { readmeWithTable, renderPulumiYaml } from "../../scripts/configDocs";

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

    it("README lists every key with its default", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.equal(readme, readmeWithTable(readme), "run npm run docs");
        for (const key of Object.keys(allKeys())) assert.ok(readme.includes(`| \`${key}\` |`), key);
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
