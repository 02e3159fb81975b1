/**
 * `npm run ca-file -- <stack>`: recreate the CA file the stack's Vault provider reads, from the
 * stack's state and its caCert output. Run it on a fresh clone before `pulumi refresh` or
 * `pulumi destroy` (which configure the provider from state without running the program).
 * Needs only the Pulumi CLI logged in to the stack's backend; no credentials of the clouds.
 */
import { execFileSync } from "node:child_process";
import { recreateCaFiles } from "../components/settings/caFile";

function pulumi(args: string[]): string {
    return execFileSync("pulumi", args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

export function main(argv: string[]): number {
    const stack = argv[0];
    if (!stack || stack.startsWith("-")) {
        console.error("usage: npm run ca-file -- <stack>");
        return 2;
    }
    const exported = JSON.parse(pulumi(["stack", "export", "--stack", stack])) as Parameters<typeof recreateCaFiles>[0];
    const caCert = JSON.parse(pulumi(["stack", "output", "caCert", "--stack", stack, "--json"])) as string;
    const files = recreateCaFiles(exported, caCert);
    if (files.length === 0) console.log(`stack ${stack}: no Vault provider reads a CA file (nothing to do)`);
    for (const f of files) console.log(`wrote ${f}`);
    return 0;
}

if (require.main === module) {
    try {
        process.exit(main(process.argv.slice(2)));
    } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    }
}
