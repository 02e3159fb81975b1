import type { ResourceValidationPolicy } from "@pulumi/policy";
import { arr, obj, str } from "./lib/common";
import { IAM_POLICY_TYPES, hasWildcard, parseDocument, principalValues, type Statement } from "./lib/iam";

const IAM_ROLE = "aws:iam/role:Role";

/** S3 object ARNs may use a wildcard in the object key (`arn:aws:s3:::bucket/vault/*`), never before it. */
function broadResource(r: string): boolean {
    if (r === "*") return true;
    const s3Object = /^arn:aws[a-z-]*:s3:[^/]*:([^:/]+)\/(.*)$/.exec(r);
    if (s3Object) return hasWildcard(s3Object[1]);
    return hasWildcard(r);
}

function checkStatements(stmts: Statement[], report: (m: string) => void, where = ""): void {
    stmts.forEach((s, i) => {
        if (s.effect !== "Allow") return;
        const id = `${where}${s.sid ?? String(i)}`;
        for (const a of s.actions)
            if (hasWildcard(a)) report(`Statement ${id} allows the wildcard action "${a}"; list the actions by name.`);
        for (const r of s.resources)
            if (broadResource(r)) report(`Statement ${id} allows resource "${r}"; name the resource's ARN.`);
        if (s.notActions.length > 0)
            report(
                `Statement ${id} allows NotAction ${s.notActions.join(", ")}, which grants everything else; list the allowed actions.`,
            );
        if (s.notResources.length > 0)
            report(`Statement ${id} allows NotResource, which grants every other resource; list the resources.`);
    });
}

/**
 * One-field changes that would undo the same protection, each covered here:
 * - an action with `*` or `?` (`kms:*`, `s3:Delete*`, `*`), a resource `*` or a wildcard before
 *   the S3 object key (`arn:aws:s3:::*`), NotAction or NotResource on an Allow;
 * - the same grant moved into the role's own `inlinePolicies` (checked like a RolePolicy);
 * - an AWS-managed policy (`arn:aws:iam::aws:policy/AdministratorAccess`, `PowerUserAccess`, …) in
 *   the role's `managedPolicyArns`: those are written with wildcards;
 * - the unseal role's trust policy (`assumeRolePolicy`) opened to any principal (`"*"`,
 *   `{ "AWS": "*" }`), so anyone may become the role that unseals Vault.
 */
export const awsIamPolicyNoWildcards: ResourceValidationPolicy = {
    name: "aws-iam-policy-no-wildcards",
    description:
        "No IAM policy Allow statement (policies, role inline policies) uses a `*` in an action, `*` (or a wildcard before the object key) in a resource, NotAction or NotResource; roles attach no AWS-managed policy and trust no wildcard principal.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["aws", "iam", "least-privilege"],
    remediationSteps:
        "List each action by name and each resource by ARN; a wildcard is allowed only in an S3 object key prefix.",
    validateResource: (args, report) => {
        if (args.type === IAM_ROLE) {
            arr(args.props.inlinePolicies).forEach((p, i) => {
                const name = str(obj(p)?.name) ?? String(i);
                checkStatements(parseDocument(obj(p)?.policy) ?? [], report, `${name}/`);
            });
            for (const arn of arr(args.props.managedPolicyArns).map(String))
                if (/^arn:aws[a-z-]*:iam::aws:policy\//.test(arn))
                    report(
                        `The role attaches the AWS-managed policy ${arn}; attach a policy that lists actions and resources.`,
                    );
            (parseDocument(args.props.assumeRolePolicy) ?? []).forEach((s, i) => {
                const anyone = principalValues(s.principals).filter(hasWildcard);
                if (s.effect === "Allow" && anyone.length > 0)
                    report(
                        `The role's trust policy statement ${s.sid ?? String(i)} lets principal ${anyone.join(", ")} assume it; name the service or role that may.`,
                    );
            });
            return;
        }
        if (!IAM_POLICY_TYPES.includes(args.type)) return;
        const stmts = parseDocument(args.props.policy);
        if (!stmts) {
            report("The policy document is not JSON; render it as JSON so it can be checked.");
            return;
        }
        checkStatements(stmts, report);
    },
};
