/**
 * `npm run render -- <stack> [key=value …]`: run the program under Pulumi's mock runtime with the
 * committed stack file (no credentials, no network) and write under out/<stack>/:
 *   - <node>.server.json  each node's rendered Vault server configuration
 *   - resources.json      every declared resource: type, name, parent, key inputs (secrets redacted)
 *   - resources.txt       the same, one line per resource
 * Extra `key=value` arguments override stack config (e.g. `cloud=gcp gcpProject=acme`).
 * A bad stack config fails with the config error and writes nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { setupMocks, stackConfig, valueOf, type Recorded } from "../test/helpers/mocks";

const SECRET_INPUTS = /(key|secret|token|password|credential|privateKey|recovery)/i;

/** Replace anything that may hold a secret: env values, uploaded files other than server.json. */
export function redact(r: Recorded): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.inputs)) {
        if (k === "envs" && Array.isArray(v)) out[k] = v.map((e) => String(e).replace(/=.*/s, "=[redacted]"));
        else if (k === "uploads" && Array.isArray(v))
            out[k] = v.map((u: Record<string, unknown>) =>
                String(u.file).endsWith(".json") && String(u.file).includes("server")
                    ? { ...u, content: "[see <node>.server.json]" }
                    : { ...u, content: u.content === undefined ? undefined : "[redacted]" },
            );
        else if (SECRET_INPUTS.test(k) && typeof v === "string") out[k] = "[redacted]";
        else out[k] = v;
    }
    return out;
}

export async function render(stack: string, overrides: Record<string, string>, outRoot: string): Promise<string[]> {
    const config = stackConfig(stack, overrides);
    const run = setupMocks(stack, config);
    const { buildProgram } = await import("../program");
    const { platform, outputs } = buildProgram();
    await valueOf(pulumi_all(outputs));
    await Promise.all(platform.cluster.containers.map((c) => valueOf(c.urn)));
    const configs = await Promise.all(platform.cluster.serverConfigs.map((c) => valueOf(c)));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));

    const dir = path.join(outRoot, stack);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    platform.nodes.forEach((n, i) => {
        const file = path.join(dir, `${n.name}.server.json`);
        fs.writeFileSync(file, configs[i]);
        written.push(file);
    });
    const list = run.resources.map((r) => ({ type: r.type, name: r.name, inputs: redact(r) }));
    fs.writeFileSync(path.join(dir, "resources.json"), JSON.stringify(list, null, 2) + "\n");
    fs.writeFileSync(
        path.join(dir, "resources.txt"),
        run.resources.map((r) => `${r.type.padEnd(56)} ${r.name}`).join("\n") + "\n",
    );
    written.push(path.join(dir, "resources.json"), path.join(dir, "resources.txt"));
    return written;
}

function pulumi_all(o: Record<string, unknown>) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    return pulumi.all(Object.values(o).filter((v) => v !== undefined) as never[]);
}

if (require.main === module) {
    const [stack, ...rest] = process.argv.slice(2);
    if (!stack || (!["staging", "prod", "local"].includes(stack) && !fs.existsSync(`Pulumi.${stack}.yaml`))) {
        console.error("usage: npm run render -- <staging|prod|local> [key=value …]");
        process.exit(2);
    }
    const overrides = Object.fromEntries(
        rest.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    render(stack, overrides, path.join(__dirname, "..", "out")).then(
        (files) => {
            console.log(`rendered stack ${stack}:`);
            for (const f of files) console.log(`  ${path.relative(process.cwd(), f)}`);
        },
        (err: Error) => {
            console.error(err.name === "ConfigError" ? err.message : err.stack);
            process.exit(1);
        },
    );
}
