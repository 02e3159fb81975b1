/**
 * Re-unseal the local transit unsealer after a workstation reboot (it restarts sealed, by design).
 *
 *   node --import tsx components/unseal/reunseal.ts [stack=local]
 *
 * Reads the unseal key from the stack's state (`pulumi stack export --show-secrets`, so it never
 * appears on a command line or in the environment), then unseals through the same code the
 * dynamic provider uses. The cluster nodes retry their transit seal and unseal by themselves.
 */
import { execFileSync } from "node:child_process";
import { ensureUnsealed } from "./transit";

interface StateResource {
    urn: string;
    type: string;
    outputs?: Record<string, unknown>;
}

export function findUnsealer(resources: StateResource[]): { address: string; unsealKey: string } {
    const r = resources.find(
        (x) => x.type === "pulumi-nodejs:dynamic/bonito:UnsealerInit" && x.urn.endsWith("-unsealer-init"),
    );
    const out = r?.outputs;
    if (!out || typeof out.unsealKey !== "string" || typeof out.address !== "string")
        throw new Error("no initialised unsealer in this stack's state (is cloud local, and has `pulumi up` run?)");
    return { address: out.address, unsealKey: out.unsealKey };
}

if (require.main === module) {
    const stack = process.argv[2] ?? "local";
    const raw = execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 64 * 1024 * 1024,
    });
    const state = JSON.parse(raw) as { deployment?: { resources?: StateResource[] } };
    const { address, unsealKey } = findUnsealer(state.deployment?.resources ?? []);
    ensureUnsealed(fetch, address, unsealKey).then(
        (r) =>
            console.log(
                r === "unsealed"
                    ? `unsealed the unsealer at ${address}`
                    : `the unsealer at ${address} was already unsealed`,
            ),
        (e: Error) => {
            console.error(e.message);
            process.exit(1);
        },
    );
}
