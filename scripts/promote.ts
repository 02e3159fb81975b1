/**
 * `node --import tsx scripts/promote.ts --from staging --to prod [--commit <sha>] [--write]`
 *
 * Refuses a promotion that staging did not verify: reads the source stack's outputs
 * (`pulumi stack output --json --show-secrets=false`), and checks that the target stack's
 * configured `bonito-vault:image` equals the source's `verifiedImage` and, with --commit, that
 * the source's `verifiedCommit` is that commit. With --write it sets the target's image to the
 * verified one instead of failing on a mismatch (it never invents a value). Exit 0 = allowed.
 * The program applies the same rule through a StackReference (components/config/promotion.ts).
 */
import { execFileSync } from "node:child_process";
import { promotionProblems, type VerifiedRelease } from "../components/config/promotion";

export interface PromoteArgs {
    from: string;
    to: string;
    commit?: string;
    write: boolean;
}

export function parseArgs(argv: string[]): PromoteArgs {
    const get = (flag: string) => {
        const i = argv.indexOf(flag);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const from = get("--from") ?? "staging";
    const to = get("--to") ?? "prod";
    if (from === to) throw new Error("--from and --to name the same stack");
    return { from, to, commit: get("--commit"), write: argv.includes("--write") };
}

type Pulumi = (args: string[]) => string;

const defaultPulumi: Pulumi = (args) => {
    const bin = process.env.PULUMI_BIN ?? "pulumi";
    return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
};

/** Returns the problems (empty = promoted). `pulumi` is injectable for tests. */
export function promote(a: PromoteArgs, pulumi: Pulumi = defaultPulumi): string[] {
    const outputs = JSON.parse(pulumi(["stack", "output", "--json", "--stack", a.from])) as VerifiedRelease;
    const image = pulumi(["config", "get", "bonito-vault:image", "--stack", a.to]).trim();
    const problems = promotionProblems(a.from, image, outputs, a.commit);
    const imageOnly = problems.length === 1 && problems[0].startsWith(`image ${image} is not`);
    if (a.write && imageOnly && typeof outputs.verifiedImage === "string") {
        pulumi(["config", "set", "bonito-vault:image", outputs.verifiedImage, "--stack", a.to]);
        return [];
    }
    return problems;
}

if (require.main === module) {
    try {
        const args = parseArgs(process.argv.slice(2));
        const problems = promote(args);
        if (problems.length > 0) {
            console.error(
                `Refusing to promote ${args.from} → ${args.to}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
            );
            process.exit(1);
        }
        console.log(
            `Promotion ${args.from} → ${args.to} allowed: ${args.to} takes exactly what ${args.from} verified.`,
        );
    } catch (e) {
        console.error((e as Error).message);
        process.exit(2);
    }
}
