/**
 * The GitHub Actions workflows parse as YAML and carry the steps the issue requires: npm ci at the
 * root and in policies/, the pack on every preview and up, OIDC instead of stored cloud keys,
 * fork PRs limited to the offline render and tests, and prod behind the protected environment
 * with only what staging verified.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
    "working-directory"?: string;
    env?: Record<string, string>;
}
interface Job {
    needs?: string | string[];
    if?: string;
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    strategy?: { matrix?: Record<string, unknown> };
    steps: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    jobs: Record<string, Job>;
}

const dir = path.join(__dirname, "..", "..", ".github", "workflows");
const load = (f: string) => parse(fs.readFileSync(path.join(dir, f), "utf8")) as Workflow;
const needs = (j: Job) => [j.needs ?? []].flat();
const pulumiSteps = (j: Job) =>
    j.steps.filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command !== undefined);
const npmCiBoth = (j: Job) => {
    assert.ok(
        j.steps.some((s) => s.run?.trim() === "npm ci" && !s["working-directory"]),
        "npm ci at the root",
    );
    assert.ok(
        j.steps.some((s) => s.run?.trim() === "npm ci" && s["working-directory"] === "policies"),
        "npm ci in policies/",
    );
};
const allText = (w: Workflow) => JSON.stringify(w);

describe("preview.yml", () => {
    const w = load("preview.yml");
    it("runs on pull requests", () => assert.ok("pull_request" in w.on));
    it("gives every PR, forks included, the offline render and tests without secrets", () => {
        const off = w.jobs.offline;
        assert.equal(off.if, undefined);
        npmCiBoth(off);
        assert.ok(off.steps.some((s) => s.run?.includes("npm test")));
        assert.ok(
            off.steps.some(
                (s) => s.run?.includes("npm run render -- staging") && s.run.includes("npm run render -- prod"),
            ),
        );
        assert.ok(!JSON.stringify(off).includes("secrets."));
        assert.ok(!JSON.stringify(off).includes("id-token"));
    });
    it("previews staging and prod with the pack, a PR comment and a diff, for same-repo PRs only", () => {
        const p = w.jobs.preview;
        assert.match(p.if ?? "", /head\.repo\.full_name == github\.repository/);
        assert.deepEqual(needs(p), ["offline"]);
        assert.deepEqual(p.strategy?.matrix?.stack, ["staging", "prod"]);
        npmCiBoth(p);
        const [step] = pulumiSteps(p);
        assert.equal(step.with?.command, "preview");
        assert.equal(step.with?.["stack-name"], "${{ matrix.stack }}");
        assert.equal(step.with?.policyPacks, "policies");
        assert.equal(step.with?.["comment-on-pr"], true);
        assert.equal(step.with?.diff, true);
        assert.equal(step.with?.["cloud-url"], "${{ vars.PULUMI_BACKEND_URL }}");
        assert.equal(p.permissions?.["id-token"], "write");
    });
});

describe("deploy.yml", () => {
    const w = load("deploy.yml");
    it("runs on main", () => assert.deepEqual((w.on.push as { branches: string[] }).branches, ["main"]));
    it("tests first", () => {
        npmCiBoth(w.jobs.test);
        assert.ok(w.jobs.test.steps.some((s) => s.run?.includes("npm test")));
    });
    it("ups staging with the pack after the tests, then checks it answers", () => {
        const s = w.jobs.staging;
        assert.deepEqual(needs(s), ["test"]);
        npmCiBoth(s);
        const [up] = pulumiSteps(s);
        assert.equal(up.with?.command, "up");
        assert.equal(up.with?.["stack-name"], "staging");
        assert.equal(up.with?.policyPacks, "policies");
        assert.ok(s.steps.some((x) => x.run?.includes("sys/health")));
        assert.ok(s.steps.some((x) => x.run?.includes("bonito-vault:sourceCommit")));
    });
    it("ups prod after staging, behind the protected production environment, promoting only what staging verified", () => {
        const p = w.jobs.prod;
        assert.deepEqual(needs(p), ["staging"]);
        assert.equal(typeof p.environment === "string" ? p.environment : p.environment?.name, "production");
        npmCiBoth(p);
        const promoteAt = p.steps.findIndex((x) => x.run?.includes("scripts/promote.ts --from staging --to prod"));
        const upAt = p.steps.findIndex((x) => x.with?.command === "up");
        assert.ok(promoteAt >= 0 && promoteAt < upAt, "promotion check before up");
        assert.equal(p.steps[upAt].with?.["stack-name"], "prod");
        assert.equal(p.steps[upAt].with?.policyPacks, "policies");
    });
});

describe("both workflows", () => {
    for (const f of ["preview.yml", "deploy.yml"]) {
        const w = load(f);
        it(`${f}: cloud credentials come from OIDC, never stored keys`, () => {
            const text = allText(w);
            for (const banned of [
                "AWS_SECRET_ACCESS_KEY",
                "AWS_ACCESS_KEY_ID",
                "AZURE_CLIENT_SECRET",
                "GOOGLE_CREDENTIALS",
                "credentials_json",
                "client-secret",
                "PULUMI_ACCESS_TOKEN }}",
            ])
                assert.ok(!text.includes(banned), `${f} mentions ${banned}`);
            const steps = Object.values(w.jobs).flatMap((j) => j.steps);
            const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.ok(aws?.with?.["role-to-assume"]);
            assert.ok(steps.find((s) => s.uses?.startsWith("azure/login@"))?.with?.["client-id"]);
            assert.ok(
                steps.find((s) => s.uses?.startsWith("google-github-actions/auth@"))?.with?.workload_identity_provider,
            );
            for (const [name, j] of Object.entries(w.jobs))
                if (j.steps.some((s) => s.uses?.startsWith("aws-actions/")))
                    assert.equal(j.permissions?.["id-token"], "write", `${name} needs id-token: write`);
        });
        it(`${f}: the state backend is one variable`, () => assert.ok(allText(w).includes("vars.PULUMI_BACKEND_URL")));
    }
});
