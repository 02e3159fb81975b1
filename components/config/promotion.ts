/**
 * Promotion keys: prod only takes what staging ran.
 *
 * Staging exports `verifiedImage` (the image it deployed, exactly as configured) and
 * `verifiedCommit` (the program commit it deployed, from `sourceCommit`). A stack with
 * `promoteFrom` reads those outputs through a StackReference and refuses to declare anything whose
 * image differs; the deploy workflow and `scripts/promote.ts` apply the same rule before `up`.
 */
import { text } from "./fields";
import { key, section, type BuildContext, type SectionValues } from "./section";

export interface PromotionConfig {
    promotion: {
        /** Stack reference name of the stack whose verified outputs this one must match; undefined = no gate. */
        from?: string;
        /** The program commit being deployed (CI sets it); exported as `verifiedCommit`. */
        sourceCommit?: string;
    };
}

/** `staging`, `org/project/staging` or `project/staging`. */
const STACK_REF = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** What the promoting stack reads from the stack it promotes from. */
export interface VerifiedRelease {
    verifiedImage?: unknown;
    verifiedCommit?: unknown;
}

/**
 * Problems with promoting `image` (and `commit`, when known) given the source stack's outputs;
 * empty when the promotion is allowed. Shared by the program's StackReference gate and
 * scripts/promote.ts, so both refuse for the same reasons with the same words.
 */
export function promotionProblems(from: string, image: string, verified: VerifiedRelease, commit?: string): string[] {
    const problems: string[] = [];
    if (typeof verified.verifiedImage !== "string" || verified.verifiedImage === "")
        problems.push(`stack ${from} exports no verifiedImage: deploy it (and let its checks pass) before promoting`);
    else if (verified.verifiedImage !== image)
        problems.push(
            `image ${image} is not the image ${from} verified (${verified.verifiedImage}); set bonito-vault:image to ${verified.verifiedImage} or deploy ${image} to ${from} first`,
        );
    if (commit !== undefined && typeof verified.verifiedCommit === "string" && verified.verifiedCommit !== commit)
        problems.push(
            `program commit ${commit} is not the commit ${from} verified (${verified.verifiedCommit}); deploy this commit to ${from} first`,
        );
    return problems;
}

const promotionKeys = {
    promoteFrom: key(
        text({
            pattern: STACK_REF,
            describe: "a stack reference name (staging, or org/bonito-vault/staging)",
        }),
        {
            type: "string",
            description:
                "Stack whose exported verifiedImage this stack's image must equal (a StackReference); prod requires it.",
            default: "staging on prod, unset elsewhere",
        },
    ),
    sourceCommit: key(text({ pattern: COMMIT, describe: "a 40-character git commit id" }), {
        type: "string",
        description: "The program commit being deployed (CI sets it); exported as verifiedCommit for promotion.",
        default: "unset",
    }),
};

type PromotionValues = SectionValues<typeof promotionKeys>;

export const promotionSection = section(promotionKeys, buildPromotion);

function buildPromotion(v: PromotionValues, ctx: BuildContext): PromotionConfig {
    const from = v.promoteFrom ?? (ctx.prod ? "staging" : undefined);
    if (from !== undefined && from.split("/").pop() === ctx.stack)
        ctx.issue("promoteFrom", "names this stack itself; promote from another stack");
    return { promotion: { from, sourceCommit: v.sourceCommit } };
}
