import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isVaultContainer, obj, str } from "./lib/common";

/** HashiCorp hardening: a core dump of Vault's memory may contain the encryption keys. */
export const vaultContainerCoreDumpsDisabled: ResourceValidationPolicy = {
    name: "vault-container-core-dumps-disabled",
    description: "Vault containers set the `core` ulimit to 0 (soft and hard), so no core dump can leak keys.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "hardening"],
    remediationSteps: 'Add `ulimits: [{ name: "core", soft: 0, hard: 0 }]` to the Vault container.',
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || !isVaultContainer(args.props)) return;
        const core = arr(args.props.ulimits)
            .map(obj)
            .find((u) => str(u?.name) === "core");
        if (!core) report('Core dumps are not disabled: add the ulimit `{ name: "core", soft: 0, hard: 0 }`.');
        else if (Number(core.soft) !== 0 || Number(core.hard) !== 0)
            report(
                `Core dumps are enabled (core ulimit soft=${String(core.soft)}, hard=${String(core.hard)}); set both to 0.`,
            );
    },
};
