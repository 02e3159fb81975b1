import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, TYPES, isProdUrn, sealsOf, serverConfigs, truthy, vaultRole } from "./lib/common";

const CLOUD_SEALS = ["awskms", "gcpckms", "azurekeyvault"];

/**
 * Seed §2: a production Vault starts sealed after every restart; prod unseals from a cloud KMS.
 *
 * One-field changes that would undo the same protection, each covered here: the seal stanza removed
 * (or shamir); the cloud seal `disabled` (`true`, `"true"`); transit (or any non-cloud seal) on prod;
 * the seal written as a list of stanzas (all are read).
 */
export const vaultSealAutoUnseal: ResourceValidationPolicy = {
    name: "vault-seal-auto-unseal",
    description:
        "Every Vault server config has an enabled auto-unseal seal stanza; on prod it is a cloud KMS (awskms, gcpckms or azurekeyvault).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "unseal", "seed-2"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Set `bonito-vault:cloud` to aws, azure or gcp so the program renders a cloud KMS seal; transit (cloud: local) is for workstations.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) !== "server") return;
        const prod = isProdUrn(args.urn, args);
        for (const cfg of serverConfigs(args.props, report)) {
            const seals = sealsOf(cfg.json).filter((s) => s.type !== "shamir" && !truthy(s.settings.disabled));
            if (seals.length === 0)
                report(
                    `${cfg.file} has no auto-unseal seal stanza; Vault would need manual unsealing after every restart.`,
                );
            else if (prod && !seals.some((s) => CLOUD_SEALS.includes(s.type)))
                report(
                    `${cfg.file} unseals with ${seals.map((s) => s.type).join(", ")} on prod; prod needs a cloud KMS seal (${CLOUD_SEALS.join(", ")}).`,
                );
        }
    },
};
