/**
 * AWS IAM policy documents as plain data: the `policy` input of `aws:iam/policy:Policy`,
 * `aws:iam/rolePolicy:RolePolicy`, `aws:iam/userPolicy:UserPolicy`, `aws:iam/groupPolicy:GroupPolicy`
 * and `aws:s3/bucketPolicy:BucketPolicy` is a JSON string (or an object when a program passes one).
 */
import { arr, obj, str, type Props } from "./common";

export const IAM_POLICY_TYPES = [
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
];

export interface Statement {
    sid?: string;
    effect: "Allow" | "Deny";
    actions: string[];
    notActions: string[];
    resources: string[];
    notResources: string[];
    principals: unknown;
    notPrincipals: unknown;
    condition: Props | undefined;
}

function list(v: unknown): string[] {
    if (typeof v === "string") return [v];
    return arr(v).filter((x): x is string => typeof x === "string");
}

/** Parse a document; undefined when it is not a JSON policy document. */
export function parseDocument(raw: unknown): Statement[] | undefined {
    let doc: unknown = raw;
    if (typeof raw === "string") {
        try {
            doc = JSON.parse(raw);
        } catch {
            return undefined;
        }
    }
    const o = obj(doc);
    if (!o) return undefined;
    const stmts = Array.isArray(o.Statement) ? o.Statement : o.Statement !== undefined ? [o.Statement] : [];
    return stmts.map((s) => {
        const so = obj(s) ?? {};
        return {
            sid: str(so.Sid),
            effect: so.Effect === "Deny" ? "Deny" : "Allow",
            actions: list(so.Action),
            notActions: list(so.NotAction),
            resources: list(so.Resource),
            notResources: list(so.NotResource),
            principals: so.Principal,
            notPrincipals: so.NotPrincipal,
            condition: obj(so.Condition),
        };
    });
}

/** IAM action matching: case-insensitive, `*` and `?` wildcards. */
export function actionMatches(pattern: string, action: string): boolean {
    const re = new RegExp(
        "^" +
            pattern
                .split("")
                .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
                .join("") +
            "$",
        "i",
    );
    return re.test(action);
}

export function hasWildcard(s: string): boolean {
    return s.includes("*") || s.includes("?");
}

/** Every principal a statement names (`"*"`, or the values under AWS/Service/Federated/CanonicalUser). */
export function principalValues(principals: unknown): string[] {
    if (typeof principals === "string") return [principals];
    return Object.values(obj(principals) ?? {}).flatMap(list);
}
