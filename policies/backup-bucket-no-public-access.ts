import type { StackValidationPolicy } from "@pulumi/policy";
import { arr, str } from "./lib/common";
import { AZ_ACCOUNT, AZ_CONTAINER, GCS_BUCKET, GCS_IAM, S3_PUBLIC_ACCESS_BLOCK, s3Buckets, s3Side } from "./lib/backup";

const BLOCKS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/**
 * A Raft snapshot holds every secret (encrypted by the seal key): no public path to it may exist.
 *
 * One-field changes that would undo the same protection, each covered here: any of the four S3
 * public access blocks false or removed (or the block resource removed); a public ACL; GCS public
 * access prevention `inherited`, uniform access off, an `allUsers`/`allAuthenticatedUsers` binding;
 * Azure blob public access allowed (or unset), a container with `Blob`/`Container` access.
 */
export const backupBucketNoPublicAccess: StackValidationPolicy = {
    name: "backup-bucket-no-public-access",
    description:
        "No backup bucket can become public: S3 with all four public access blocks and no public ACL; GCS with public access prevention enforced, uniform access and no allUsers binding; Azure with blob public access off and private containers.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["backup", "seed-6"],
    remediationSteps:
        'AWS: a BucketPublicAccessBlock with all four flags true. GCP: publicAccessPrevention: "enforced", uniformBucketLevelAccess: true. Azure: allowBlobPublicAccess: false and publicAccess "None".',
    validateStack: (args, report) => {
        for (const b of s3Buckets(args)) {
            const blocks = s3Side(args, b, [S3_PUBLIC_ACCESS_BLOCK]);
            const full = blocks.some((p) => BLOCKS.every((k) => p.props[k] === true));
            if (!full)
                report(
                    `S3 bucket ${b.name} lacks a BucketPublicAccessBlock with ${BLOCKS.join(", ")} all true.`,
                    b.urn,
                );
            const acl = str(b.props.acl) ?? "";
            if (/public|authenticated-read/.test(acl)) report(`S3 bucket ${b.name} has ACL ${acl}; remove it.`, b.urn);
        }
        for (const b of args.resources.filter((r) => r.type === GCS_BUCKET)) {
            if (str(b.props.publicAccessPrevention) !== "enforced")
                report(
                    `GCS bucket ${b.name} does not enforce public access prevention; set publicAccessPrevention: "enforced".`,
                    b.urn,
                );
            if (b.props.uniformBucketLevelAccess !== true)
                report(
                    `GCS bucket ${b.name} does not use uniform bucket-level access; set uniformBucketLevelAccess: true.`,
                    b.urn,
                );
        }
        for (const m of args.resources.filter((r) => GCS_IAM.includes(r.type))) {
            const who = [str(m.props.member), ...arr(m.props.members).map(String)];
            for (const p of PUBLIC_MEMBERS)
                if (who.includes(p)) report(`Bucket IAM ${m.name} grants ${str(m.props.role) ?? "?"} to ${p}.`, m.urn);
        }
        for (const a of args.resources.filter((r) => r.type === AZ_ACCOUNT))
            if (a.props.allowBlobPublicAccess !== false)
                report(`Storage account ${a.name} allows blob public access; set allowBlobPublicAccess: false.`, a.urn);
        for (const c of args.resources.filter((r) => r.type === AZ_CONTAINER)) {
            const pa = str(c.props.publicAccess);
            if (pa !== undefined && pa !== "None")
                report(`Blob container ${c.name} has publicAccess ${pa}; use "None".`, c.urn);
        }
    },
};
