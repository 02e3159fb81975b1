/**
 * Whole-stack checks shared by test/mocks/stack-<name>.test.ts (one file per stack, because
 * node:test runs each file in its own process and the mock runtime is global).
 * Proves: what the committed stack file declares, exactly where it matters for hardening.
 * Does not prove: that Docker, the clouds or Vault accept it.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { optionRecorder, setupMocks, stackConfig, valueOf, type MockRun } from "./mocks";

/** Stack outputs whose value is a credential: each must be a Pulumi secret. */
export const SECRET_OUTPUTS = ["backendEnv", "recoveryKeys", "snapshotAgentSecretId", "migrationLogin"];

export function describeStack(stack: string, expect: { nodes: number; hosts: number; tlsMin: string }) {
    const run: MockRun = setupMocks(stack, stackConfig(stack));
    const recorder = optionRecorder();
    let outputs: Record<string, unknown> = {};
    let configs: Record<string, unknown>[] = [];

    before(async () => {
        const { buildProgram } = await import("../../program");
        const built = buildProgram(
            undefined,
            { transformations: recorder.transformations },
            { allowExampleKeys: true },
        );
        outputs = built.outputs as Record<string, unknown>;
        await Promise.all(Object.values(outputs).map((o) => valueOf(o as pulumi.Input<unknown>)));
        await Promise.all(built.platform.cluster.containers.map((c) => valueOf(c.urn)));
        configs = (await Promise.all(built.platform.cluster.serverConfigs.map((c) => valueOf(c)))).map(
            (c) => JSON.parse(c) as Record<string, unknown>,
        );
        for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    });

    const servers = () =>
        run
            .ofType("docker:index/container:Container")
            .filter((c) =>
                ((c.inputs.labels ?? []) as { label: string; value: string }[]).some(
                    (l) => l.label === "bonito.role" && l.value === "vault-server",
                ),
            );

    describe(`stack ${stack}`, () => {
        it("index.ts exports every output buildProgram returns, each under its own name", () => {
            // `pulumi stack output X` reads only what index.ts exports: an output missing there is
            // one the docs promise and no user can read.
            const src = fs.readFileSync(path.join(__dirname, "..", "..", "index.ts"), "utf8");
            const exported = [...src.matchAll(/^export const (\w+) = outputs\.(\w+);$/gm)];
            for (const m of exported) assert.equal(m[1], m[2], `index.ts exports outputs.${m[2]} as ${m[1]}`);
            assert.deepEqual(exported.map((m) => m[1]).sort(), Object.keys(outputs).sort());
        });

        it(`declares ${expect.nodes} Vault containers, none running -dev`, () => {
            assert.equal(servers().length, expect.nodes);
            for (const c of servers()) {
                assert.deepEqual(c.inputs.command, ["server", "-config=/vault/config/server.json"]);
                assert.ok(!JSON.stringify([c.inputs.command, c.inputs.entrypoints]).includes("-dev"));
            }
        });

        it("gives each node its own protected data and audit volume", () => {
            const seen = new Set<string>();
            for (const c of servers()) {
                const vols = (c.inputs.volumes as { volumeName?: string; containerPath: string }[]).filter(
                    (v) => v.volumeName,
                ) as { volumeName: string; containerPath: string }[];
                assert.deepEqual(
                    vols.map((v) => v.containerPath),
                    ["/vault/data", "/vault/audit"],
                );
                for (const v of vols) {
                    assert.ok(!seen.has(v.volumeName), `${v.volumeName} shared`);
                    seen.add(v.volumeName);
                }
            }
            const volumes = run.ofType("docker:index/volume:Volume").filter((v) => seen.has(String(v.inputs.name)));
            assert.equal(volumes.length, expect.nodes * 2);
            for (const v of volumes) {
                assert.equal(recorder.opts.get(v.name)?.protect, true, v.name);
                assert.equal(recorder.opts.get(v.name)?.retainOnDelete, true, v.name);
            }
        });

        it(`serves TLS (min ${expect.tlsMin}) on every listener`, () => {
            assert.equal(configs.length, expect.nodes);
            for (const cfg of configs) {
                for (const l of cfg.listener as { tcp: Record<string, unknown> }[]) {
                    assert.equal(l.tcp.tls_disable, false);
                    assert.equal(l.tcp.tls_min_version, expect.tlsMin);
                }
                assert.ok("raft" in (cfg.storage as object));
            }
        });

        it(`spreads the nodes over ${expect.hosts} Docker host(s)`, () => {
            const providers = new Set(servers().map((c) => c.provider ?? "default"));
            assert.equal(providers.size, expect.hosts);
        });

        it("keeps every credential-bearing output secret and no secret in a plain output", async () => {
            for (const name of SECRET_OUTPUTS) {
                if (!(name in outputs)) continue;
                assert.equal(await pulumi.isSecret(pulumi.output(outputs[name])), true, `${name} must be secret`);
            }
            for (const [name, o] of Object.entries(outputs)) {
                if (await pulumi.isSecret(pulumi.output(o))) continue;
                const text = JSON.stringify(await valueOf(o as pulumi.Input<unknown>)) ?? "";
                assert.doesNotMatch(
                    text,
                    /PRIVATE KEY|VAULT_SECRET_ID|mock-(root-token|admin-secret-id|admin-role-id|secret-id|secret-|transit-token|unsealer-key|recovery|wrapping-token)/,
                    `${name} is a plain output holding a secret (the stand-ins of test/helpers/mocks.ts)`,
                );
            }
        });
    });
    return run;
}
