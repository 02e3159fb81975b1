import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, isVaultContainer, obj, truthy } from "./lib/common";

/**
 * The Vault container keeps IPC_LOCK (Vault's guidance for containers; docs/architecture.md "Security posture"): the
 * official image's entrypoint and binary expect it, and it is what lets mlock be turned on later
 * without a container change; swap is off instead while `disable_mlock` is on (components/runtime.ts).
 *
 * One-field changes that would undo the same protection, each covered here: IPC_LOCK removed from
 * `capabilities.adds` (or `capabilities` removed); `privileged: true` or `"true"`. Spellings `CAP_IPC_LOCK`
 * and `ipc_lock` count as IPC_LOCK. Capabilities beyond Vault's: `container-security-least-privilege`.
 */
export const vaultContainerIpcLock: ResourceValidationPolicy = {
    name: "vault-container-ipc-lock",
    description: "Vault containers add the IPC_LOCK capability and are not privileged.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "hardening"],
    remediationSteps: 'Set `capabilities: { adds: ["IPC_LOCK"], drops: ["ALL"] }` and leave `privileged` unset.',
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || !isVaultContainer(args.props)) return;
        const adds = arr(obj(args.props.capabilities)?.adds).map((c) => String(c).toUpperCase().replace(/^CAP_/, ""));
        if (!adds.includes("IPC_LOCK"))
            report(
                'The Vault container does not add the IPC_LOCK capability; add it with `capabilities: { adds: ["IPC_LOCK"] }`.',
            );
        if (truthy(args.props.privileged))
            report("The Vault container is privileged; remove `privileged: true` and add only IPC_LOCK.");
    },
};
