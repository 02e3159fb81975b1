import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isVaultContainer, obj, str } from "./lib/common";

/**
 * HashiCorp hardening: a core dump of Vault's memory may contain the encryption keys.
 *
 * One-field changes that would undo the same protection, each covered here: the `core` ulimit
 * removed (or every ulimit removed); soft or hard raised (-1 is unlimited); the hard limit raised
 * while soft stays 0 (the process may raise its own soft limit); a second `core` entry after the
 * first (every entry is checked).
 */
export const vaultContainerCoreDumpsDisabled: ResourceValidationPolicy = {
    name: "vault-container-core-dumps-disabled",
    description: "Vault containers set the `core` ulimit to 0 (soft and hard), so no core dump can leak keys.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "hardening"],
    remediationSteps: 'Add `ulimits: [{ name: "core", soft: 0, hard: 0 }]` to the Vault container.',
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || !isVaultContainer(args.props)) return;
        const cores = arr(args.props.ulimits)
            .map((u) => obj(u) ?? {})
            .filter((u) => str(u.name) === "core");
        if (cores.length === 0)
            report('Core dumps are not disabled: add the ulimit `{ name: "core", soft: 0, hard: 0 }`.');
        for (const core of cores.filter((c) => Number(c.soft) !== 0 || Number(c.hard) !== 0))
            report(
                `Core dumps are enabled (core ulimit soft=${String(core.soft)}, hard=${String(core.hard)}); set both to 0.`,
            );
    },
};
