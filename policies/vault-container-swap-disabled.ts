import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, isVaultContainer, serverConfigs, truthy } from "./lib/common";

/**
 * HashiCorp hardening: Vault holds keys and secrets in clear in memory, so that memory must never
 * be swapped to disk. With `disable_mlock` (which Raft's docs advise), nothing stops the kernel
 * from swapping except the container: its swap limit (`memorySwap`, memory plus swap) must equal
 * its memory limit, which leaves no swap at all.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `memorySwap` raised above `memory`, set to -1 (unlimited) or 0, or removed (Docker then allows
 *   as much swap as memory);
 * - `memory` removed (no limit: memorySwap means nothing, and the host's swap applies);
 * - `disable_mlock` turned on as a string (`"true"`, `"1"`) in a config that had it off.
 * (Turning `disable_mlock` off is safe: Vault then locks its memory, with IPC_LOCK.)
 */
export const vaultContainerSwapDisabled: ResourceValidationPolicy = {
    name: "vault-container-swap-disabled",
    description:
        "A Vault container whose config sets disable_mlock has a memory limit and a memorySwap equal to it, so no secret can be swapped to disk.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "hardening", "memory"],
    remediationSteps:
        "Set the container's `memory` and `memorySwap` to the same number of megabytes (or render disable_mlock: false).",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || !isVaultContainer(args.props)) return;
        const mlockOff = serverConfigs(args.props, () => undefined).filter((c) => truthy(c.json.disable_mlock));
        if (mlockOff.length === 0) return;
        const memory = Number(args.props.memory ?? 0);
        const swap = args.props.memorySwap;
        const where = mlockOff.map((c) => c.file).join(", ");
        if (!(memory > 0))
            report(
                `${where} sets disable_mlock but the container has no memory limit, so its memory can be swapped; set memory and memorySwap to the same value.`,
            );
        else if (Number(swap) !== memory)
            report(
                `${where} sets disable_mlock but the container allows swap (memory ${memory}, memorySwap ${String(swap ?? "unset")}); set memorySwap equal to memory.`,
            );
    },
};
