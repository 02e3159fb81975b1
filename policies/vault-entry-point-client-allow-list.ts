import type { StackValidationPolicy } from "@pulumi/policy";
import { vaultServers } from "./lib/common";
import { ANY_CLIENT_LABEL, openToAnyone, serversStated } from "./lib/entryPoint";

/**
 * The entry point admits only the clients the stack lists (entryPointClientCidrs). 0.0.0.0/0 is
 * accepted only where the stack config said so (`entryPointAllowAnyClient: true`), which the
 * program states on every Vault server with the `bonito.entry-point-any-client=stated` label.
 *
 * One-field changes that would undo the same protection, each covered here: an ingress rule's
 * range set to 0.0.0.0/0 (aws rule, gcp firewall sourceRanges, azure NSG source `*`/`Internet`);
 * a gcp firewall's sourceRanges removed (GCP then admits every address); an aws network load
 * balancer without its security group.
 */
export const vaultEntryPointClientAllowList: StackValidationPolicy = {
    name: "vault-entry-point-client-allow-list",
    description:
        "Rules in front of Vault (security groups, firewall rules, NSGs) admit only listed client ranges; 0.0.0.0/0 only where the stack config states entryPointAllowAnyClient.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "network", "entry-point"],
    remediationSteps:
        "List your clients' ranges in `bonito-vault:entryPointClientCidrs`; only if any address must connect, add 0.0.0.0/0 with `entryPointAllowAnyClient: true`.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        if (serversStated(servers, ANY_CLIENT_LABEL, "stated")) return;
        for (const o of openToAnyone(args.resources))
            report(
                `${o.where}; the entry point must admit only entryPointClientCidrs (0.0.0.0/0 needs entryPointAllowAnyClient: true).`,
                o.urn,
            );
    },
};
