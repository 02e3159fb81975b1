import type { ResourceValidationPolicy } from "@pulumi/policy";
import { IAM_POLICY_TYPES, hasWildcard, parseDocument } from "./lib/iam";

/** S3 object ARNs may use a wildcard in the object key (`arn:aws:s3:::bucket/vault/*`), never before it. */
function broadResource(r: string): boolean {
    if (r === "*") return true;
    const s3Object = /^arn:aws[a-z-]*:s3:[^/]*:([^:/]+)\/(.*)$/.exec(r);
    if (s3Object) return hasWildcard(s3Object[1]);
    return hasWildcard(r);
}

export const awsIamPolicyNoWildcards: ResourceValidationPolicy = {
    name: "aws-iam-policy-no-wildcards",
    description:
        "No IAM policy Allow statement uses a `*` in an action, `*` (or a wildcard before the object key) in a resource, NotAction or NotResource.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["aws", "iam", "least-privilege"],
    remediationSteps:
        "List each action by name and each resource by ARN; a wildcard is allowed only in an S3 object key prefix.",
    validateResource: (args, report) => {
        if (!IAM_POLICY_TYPES.includes(args.type)) return;
        const stmts = parseDocument(args.props.policy);
        if (!stmts) {
            report("The policy document is not JSON; render it as JSON so it can be checked.");
            return;
        }
        stmts.forEach((s, i) => {
            if (s.effect !== "Allow") return;
            const id = s.sid ?? String(i);
            for (const a of s.actions)
                if (hasWildcard(a))
                    report(`Statement ${id} allows the wildcard action "${a}"; list the actions by name.`);
            for (const r of s.resources)
                if (broadResource(r)) report(`Statement ${id} allows resource "${r}"; name the resource's ARN.`);
            if (s.notActions.length > 0)
                report(
                    `Statement ${id} allows NotAction ${s.notActions.join(", ")}, which grants everything else; list the allowed actions.`,
                );
            if (s.notResources.length > 0)
                report(`Statement ${id} allows NotResource, which grants every other resource; list the resources.`);
        });
    },
};
