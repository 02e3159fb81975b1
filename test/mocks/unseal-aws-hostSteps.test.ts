/**
 * aws with the role identity: what the operator must do on the EC2 hosts, where they see it. The
 * program cannot attach the instance profile or set the metadata hop limit (the hosts are not
 * declared here); without both, the containers get no credentials and Vault stays sealed.
 * Proves: the stack output `unsealHostSteps` names the instance profile and the hop limit 2 with the
 * commands, and is empty for the user identity. Does not prove: that the hosts were set up (a real
 * EC2 host does: Vault unseals only then).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { optionRecorder, setupMocks, stackConfig, valueOf } from "../helpers/mocks";
import { buildUnsealKey } from "../helpers/unseal";

setupMocks("staging", stackConfig("staging", { cloud: "aws", awsRegion: "eu-west-1" }));

describe("aws role identity: host steps as a stack output", () => {
    it("unsealHostSteps: attach the instance profile, IMDSv2 hop limit 2", async () => {
        const { buildProgram } = await import("../../program");
        const { outputs } = buildProgram();
        const steps = (await valueOf((outputs as Record<string, unknown>).unsealHostSteps as string[])) ?? [];
        assert.deepEqual(steps, [
            "Attach the instance profile bonito-vault-staging-unseal to every EC2 Docker host: " +
                "aws ec2 associate-iam-instance-profile --instance-id <id> --iam-instance-profile Name=bonito-vault-staging-unseal",
            "Raise every EC2 Docker host's IMDSv2 hop limit to 2, so containers on the Docker bridge network reach the instance metadata service: " +
                "aws ec2 modify-instance-metadata-options --instance-id <id> --http-endpoint enabled --http-tokens required --http-put-response-hop-limit 2",
        ]);
    });

    it("the user identity (static key, hosts outside AWS) needs no host step", async () => {
        const u = await buildUnsealKey(
            "u",
            { cloud: "aws", image: "hashicorp/vault:1.21.1", awsRegion: "eu-west-1", awsIdentity: "user" },
            optionRecorder(),
        );
        assert.deepEqual(await valueOf(u.delivery.hostSteps ?? []), []);
    });
});
