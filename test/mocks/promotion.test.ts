/**
 * The promotion gate in the program (components/vaultPlatform.ts): prod reads staging's exported
 * verifiedImage through a StackReference. Under mocks, the referenced stack "exports" what its
 * committed stack file pins. Proves: prod with an image staging did not verify is refused with a
 * message naming both images, and the committed prod and staging stacks agree. Does not prove: how
 * the Pulumi CLI reports the failure (as a failed resource registration).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rejectionOf, setupMocks, stackConfig } from "../helpers/mocks";

setupMocks("prod", stackConfig("prod", { image: "hashicorp/vault:1.21.2" }));

describe("promotion gate", () => {
    it("refuses a prod image that staging did not verify", async () => {
        const { loadConfig } = await import("../../components/config");
        const { promotedImage } = await import("../../components/vaultPlatform");
        const pulumi = await import("@pulumi/pulumi");
        const cfg = loadConfig("prod", stackConfig("prod", { image: "hashicorp/vault:1.21.2" }), new Set(), {
            allowExampleKeys: true,
        });
        assert.equal(cfg.promotion.from, "staging");
        // The gate alone (VaultPlatform passes its result as the image every node pulls).
        const parent = new pulumi.ComponentResource("test:index:Gate", "gate");
        assert.deepEqual(
            await rejectionOf(promotedImage("gate", parent, cfg)),
            new Error(
                "promotion refused: image hashicorp/vault:1.21.2 is not the image staging verified (hashicorp/vault:1.21.1); set bonito-vault:image to hashicorp/vault:1.21.1 or deploy hashicorp/vault:1.21.2 to staging first",
            ),
        );
    });

    it("accepts the committed prod stack, whose image staging pins", async () => {
        const { loadConfig } = await import("../../components/config");
        const prod = loadConfig("prod", stackConfig("prod"), new Set(), { allowExampleKeys: true });
        const staging = loadConfig("staging", stackConfig("staging"), new Set(), { allowExampleKeys: true });
        assert.equal(prod.image, staging.image);
    });
});
