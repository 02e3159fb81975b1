/**
 * Re-unseal the local transit unsealer after a workstation reboot (it restarts sealed, by design).
 *
 *   npm run local:unseal                       # stack "local", state from `pulumi stack export`
 *   node --import tsx scripts/reunseal.ts <stack> [--state-file <export.json>]
 *
 * Reads the unseal key from the stack's state (`pulumi stack export --show-secrets`, or a file
 * written by it, so the key never appears on a command line or in the environment), then unseals
 * through the same code the dynamic provider uses, and checks that the seal token the nodes hold
 * is still valid: a cluster left stopped longer than `localTokenPeriod` has an expired token and
 * cannot unseal even with the unsealer up (docs/runbook.md, "If the transit token expired").
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { dynamicType } from "../components/dynamicResource";
import { UNSEALER_INIT_KIND, ensureUnsealed, send, type FetchLike } from "../components/unseal/transit";

interface StateResource {
    urn: string;
    type: string;
    outputs?: Record<string, unknown>;
}

export interface UnsealerRecord {
    address: string;
    unsealKey: string;
    transitToken: string;
}

export function findUnsealer(resources: StateResource[]): UnsealerRecord {
    const r = resources.find((x) => x.type === dynamicType(UNSEALER_INIT_KIND) && x.urn.endsWith("-unsealer-init"));
    const out = r?.outputs;
    if (!out || typeof out.unsealKey !== "string" || typeof out.address !== "string")
        throw new Error("no initialised unsealer in this stack's state (is cloud local, and has `pulumi up` run?)");
    return { address: out.address, unsealKey: out.unsealKey, transitToken: String(out.transitToken ?? "") };
}

export const EXPIRED_TOKEN_MESSAGE =
    "the seal token the nodes hold is no longer valid (the cluster was stopped longer than localTokenPeriod): " +
    'the nodes cannot unseal. Follow docs/runbook.md, "If the transit token expired".';

/** Unseal the unsealer, then prove the nodes' seal token still works (lookup-self). */
export async function reunseal(fetchFn: FetchLike, u: UnsealerRecord): Promise<string> {
    const r = await ensureUnsealed(fetchFn, u.address, u.unsealKey);
    const head =
        r === "unsealed"
            ? `unsealed the unsealer at ${u.address}`
            : `the unsealer at ${u.address} was already unsealed`;
    try {
        await send(fetchFn, u.address, { method: "GET", path: "auth/token/lookup-self" }, u.transitToken);
    } catch (e) {
        if (e instanceof Error && / answered 403/.test(e.message))
            throw new Error(`${head}, but ${EXPIRED_TOKEN_MESSAGE}`);
        throw e;
    }
    return `${head}; the nodes' seal token is valid, they unseal by themselves within a minute`;
}

function readState(stack: string, stateFile: string | undefined): StateResource[] {
    const raw = stateFile
        ? fs.readFileSync(stateFile, "utf8")
        : execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], {
              encoding: "utf8",
              stdio: ["ignore", "pipe", "inherit"],
              maxBuffer: 64 * 1024 * 1024,
          });
    const state = JSON.parse(raw) as { deployment?: { resources?: StateResource[] } };
    return state.deployment?.resources ?? [];
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const i = args.indexOf("--state-file");
    const stateFile = i >= 0 ? args[i + 1] : undefined;
    const stack = args.find((a, j) => !a.startsWith("--") && (i < 0 || j !== i + 1)) ?? "local";
    reunseal(fetch, findUnsealer(readState(stack, stateFile))).then(
        (line) => console.log(line),
        (e: Error) => {
            console.error(e.message);
            process.exit(1);
        },
    );
}
