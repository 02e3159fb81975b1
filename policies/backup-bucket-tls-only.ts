import type { StackValidationPolicy } from "@pulumi/policy";
import { obj, str } from "./lib/common";
import { parseDocument, principalValues, type Statement } from "./lib/iam";
import { AZ_ACCOUNT, S3_BUCKET_POLICY, s3Buckets, s3Side } from "./lib/backup";

function deniesInsecureTransport(s: Statement): boolean {
    if (s.effect !== "Deny") return false;
    const everyone = principalValues(s.principals).includes("*");
    const allActions = s.actions.some((a) => a === "s3:*" || a === "*");
    const cond = obj(obj(s.condition)?.Bool)?.["aws:SecureTransport"];
    const insecure = cond === false || cond === "false" || (Array.isArray(cond) && cond.map(String).includes("false"));
    return everyone && allActions && insecure;
}

/**
 * Snapshots must never cross the network in clear text, whoever asks.
 *
 * One-field changes that would undo the same protection, each covered here: the TLS statement's
 * Effect Allow, its principal narrowed, its action narrowed from `s3:*`, its condition
 * `"aws:SecureTransport": "true"`, or the bucket policy removed; Azure HTTPS-only off, TLS 1.0/1.1.
 */
export const backupBucketTlsOnly: StackValidationPolicy = {
    name: "backup-bucket-tls-only",
    description:
        'Every backup bucket refuses plain-HTTP access: S3 bucket policy denies s3:* for every principal when aws:SecureTransport is "false"; Azure storage accounts are HTTPS-only with TLS 1.2 or later (GCS serves HTTPS only).',
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["backup", "tls", "seed-6"],
    remediationSteps:
        'AWS: a BucketPolicy statement { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucket, bucket/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }. Azure: enableHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2".',
    validateStack: (args, report) => {
        for (const b of s3Buckets(args)) {
            const docs = s3Side(args, b, [S3_BUCKET_POLICY]).map((p) => parseDocument(p.props.policy) ?? []);
            if (!docs.some((d) => d.some(deniesInsecureTransport)))
                report(
                    `S3 bucket ${b.name} has no bucket policy denying non-TLS access (aws:SecureTransport = false).`,
                    b.urn,
                );
        }
        for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT)) {
            if (a.props.enableHttpsTrafficOnly !== true)
                report(`Storage account ${a.name} does not set enableHttpsTrafficOnly: true.`, a.urn);
            const tls = str(a.props.minimumTlsVersion);
            if (tls !== "TLS1_2" && tls !== "TLS1_3")
                report(
                    `Storage account ${a.name} has minimumTlsVersion ${tls ?? "unset"}; use TLS1_2 or later.`,
                    a.urn,
                );
        }
    },
};
