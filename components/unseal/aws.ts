/**
 * aws: a symmetric KMS key (or an adopted one), an alias, and the one identity allowed to use it —
 * an IAM role with an instance profile (EC2 hosts; no static credential) or an IAM user whose
 * access key reaches the containers only as secret environment.
 */
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as pulumi from "@pulumi/pulumi";
import type { AwsUnseal } from "../config/unseal";
import { type SealDelivery, awsStanza } from "../seal";
import { awsEc2TrustPolicy, awsIdentityPolicy, awsKeyPolicy } from "./iam";

/**
 * The EC2 side of the role identity, which Pulumi does not manage (the hosts are not declared here).
 * IMDSv2 answers a PUT only within its hop limit, and a container on Docker's bridge network is one
 * hop further than the host: with the default limit of 1, Vault gets no credentials and stays sealed.
 */
export function awsRoleHostSteps(instanceProfile: string): string[] {
    return [
        `Attach the instance profile ${instanceProfile} to every EC2 Docker host: ` +
            `aws ec2 associate-iam-instance-profile --instance-id <id> --iam-instance-profile Name=${instanceProfile}`,
        "Raise every EC2 Docker host's IMDSv2 hop limit to 2, so containers on the Docker bridge network reach the instance metadata service: " +
            "aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled --http-tokens required --http-put-response-hop-limit 2",
    ];
}

export function createAwsUnseal(name: string, parent: pulumi.Resource, u: AwsUnseal): SealDelivery {
    const child = { parent };
    const identityName = `${u.baseName}-unseal`;
    const tags = { "bonito:purpose": "vault-auto-unseal" };
    // The key, its alias and the stanza name the region explicitly, whatever aws:region says.
    const region = u.region;

    let identityArn: pulumi.Output<string>;
    let attachPolicy: (keyArn: pulumi.Input<string>) => pulumi.Resource;
    let env: pulumi.Output<string[]>;
    let hostSteps: pulumi.Output<string[]> = pulumi.output([] as string[]);
    if (u.identity === "role") {
        const role = new iam.Role(
            `${name}-identity`,
            {
                name: identityName,
                description: "Vault auto-unseal: kms:Encrypt, kms:Decrypt, kms:DescribeKey on one key",
                assumeRolePolicy: JSON.stringify(awsEc2TrustPolicy()),
                maxSessionDuration: 3600,
                tags,
            },
            child,
        );
        new iam.InstanceProfile(`${name}-instance-profile`, { name: identityName, role: role.name, tags }, child);
        identityArn = role.arn;
        attachPolicy = (keyArn) =>
            new iam.RolePolicy(
                `${name}-identity-policy`,
                { name: "vault-auto-unseal", role: role.id, policy: pulumi.output(keyArn).apply(awsPolicyJson) },
                child,
            );
        // Credentials come from the instance metadata service: nothing to deliver.
        env = pulumi.secret(pulumi.output([] as string[]));
        hostSteps = pulumi.output(awsRoleHostSteps(identityName));
    } else {
        const user = new iam.User(`${name}-identity`, { name: identityName, tags }, child);
        const accessKey = new iam.AccessKey(`${name}-access-key`, { user: user.name }, child);
        identityArn = user.arn;
        attachPolicy = (keyArn) =>
            new iam.UserPolicy(
                `${name}-identity-policy`,
                { name: "vault-auto-unseal", user: user.name, policy: pulumi.output(keyArn).apply(awsPolicyJson) },
                child,
            );
        env = pulumi.secret(
            pulumi
                .all([accessKey.id, accessKey.secret])
                .apply(([id, secret]) => [`AWS_ACCESS_KEY_ID=${id}`, `AWS_SECRET_ACCESS_KEY=${secret}`]),
        );
    }

    let keyArn: pulumi.Output<string>;
    let keyIdForStanza: pulumi.Output<string>;
    if (u.keyArn) {
        keyArn = pulumi.output(u.keyArn);
        keyIdForStanza = keyArn;
    } else {
        const account = getCallerIdentityOutput({}, child);
        const partition = getPartitionOutput({}, child);
        const key = new kms.Key(
            `${name}-kms-key`,
            {
                description: `Vault auto-unseal key for ${u.baseName}; snapshots restore only with this key`,
                keyUsage: "ENCRYPT_DECRYPT",
                customerMasterKeySpec: "SYMMETRIC_DEFAULT",
                enableKeyRotation: true,
                rotationPeriodInDays: u.rotationDays,
                deletionWindowInDays: u.deletionWindowDays,
                multiRegion: false,
                bypassPolicyLockoutSafetyCheck: false,
                region,
                policy: pulumi
                    .all([partition.partition, account.accountId, identityArn])
                    .apply(([p, a, i]) => JSON.stringify(awsKeyPolicy({ partition: p, accountId: a, identityArn: i }))),
                tags,
            },
            // Losing the key loses every snapshot: never delete it from here, never replace it.
            { ...child, protect: true, retainOnDelete: true },
        );
        new kms.Alias(
            `${name}-kms-alias`,
            { name: `alias/${u.baseName}-unseal`, targetKeyId: key.keyId, region },
            child,
        );
        keyArn = key.arn;
        keyIdForStanza = key.keyId;
    }
    // The containers start only once the identity may use the key.
    const policy = attachPolicy(keyArn);

    return {
        stanza: keyIdForStanza.apply((id) => awsStanza(region, id)),
        env,
        files: [],
        dependsOn: [policy],
        keyId: keyArn,
        identity: identityArn,
        hostSteps,
    };
}

function awsPolicyJson(keyArn: string): string {
    return JSON.stringify(awsIdentityPolicy(keyArn));
}
