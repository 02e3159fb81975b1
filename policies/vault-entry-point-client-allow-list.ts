import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdStack, vaultServers } from "./lib/common";
import { ANY_CLIENT_LABEL, INTERNET_FACING_LABEL, internetFacing, openToAnyone, serversStated } from "./lib/entryPoint";
import { CLIENT_CIDR_MIN_PREFIX } from "./lib/limits";

/**
 * The entry point admits only the clients the stack lists (entryPointClientCidrs). 0.0.0.0/0 is
 * accepted only where the stack config said so (`entryPointAllowAnyClient: true`), which the
 * program states on every Vault server with the `bonito.entry-point-any-client=stated` label.
 *
 * A range is "any client" in disguise when its prefix is shorter than /8 (IPv4) or /32 (IPv6):
 * `0.0.0.0/1` plus `128.0.0.0/1` admit everyone as surely as 0.0.0.0/0. On prod the load balancer
 * is internal unless the stack states `entryPointInternetFacing: true` (the program then labels
 * every server `bonito.entry-point-internet-facing=stated`).
 *
 * One-field changes that would undo the same protection, each covered here: an ingress rule's
 * range set to 0.0.0.0/0, ::/0, 0.0.0.0/1, 10.0.0.0/7 or 2000::/3 (aws rule, inline or legacy
 * security-group rule, gcp firewall sourceRanges, azure NSG source `*`/`Internet`/a short prefix);
 * a gcp firewall's sourceRanges removed (GCP then admits every address); an aws network load
 * balancer without its security group; on prod, an aws load balancer with `internal` false or
 * removed (AWS's default is internet-facing), a gcp forwarding rule with an EXTERNAL scheme, an
 * azure frontend with a public IP.
 */
export const vaultEntryPointClientAllowList: StackValidationPolicy = {
    name: "vault-entry-point-client-allow-list",
    description:
        "Rules in front of Vault (security groups, firewall rules, NSGs) admit only listed client ranges, none shorter than IPv4 /8 or IPv6 /32; 0.0.0.0/0 only where the stack config states entryPointAllowAnyClient; on prod no internet-facing load balancer unless the stack states entryPointInternetFacing.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "network", "entry-point"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "List your clients' ranges in `bonito-vault:entryPointClientCidrs`; only if any address must connect, add 0.0.0.0/0 with `entryPointAllowAnyClient: true`.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        if (isProdStack(args) && !serversStated(servers, INTERNET_FACING_LABEL, "stated"))
            for (const o of internetFacing(args.resources))
                report(
                    `${o.where}; a prod entry point is internal unless the stack states entryPointInternetFacing: true.`,
                    o.urn,
                );
        if (serversStated(servers, ANY_CLIENT_LABEL, "stated")) return;
        for (const o of openToAnyone(args.resources))
            report(
                `${o.where}; the entry point must admit only entryPointClientCidrs, each at least /${CLIENT_CIDR_MIN_PREFIX.ipv4} (IPv6 /${CLIENT_CIDR_MIN_PREFIX.ipv6}); anything wider needs entryPointAllowAnyClient: true.`,
                o.urn,
            );
    },
};
