import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdStack, serverConfigs, str, vaultServers } from "./lib/common";
import { healthChecks, isLoadBalancer, lbTargets } from "./lib/entryPoint";
import { ENTRY_POINT_HEALTH_PATH, entryPointProdReason } from "./lib/limits";

/**
 * Clients reach prod through one name that keeps answering while a node is down: a load balancer
 * that sends traffic only to nodes Vault itself calls healthy. The check must be Vault's health
 * endpoint over HTTPS (a TCP check passes a sealed node, which answers every request with 503) and
 * must tolerate standbys (`standbyok=true`), or only the active node ever takes traffic and a
 * leader change drops every client.
 *
 * One-field changes that would undo the same protection, each covered here: the load balancer
 * removed; the health check switched to TCP or HTTP, pointed at another path, or without
 * standbyok, or disabled; a node's target (aws attachment, gcp endpoint, azure pool address)
 * removed, so fewer targets than Vault servers, or a server whose IPv4 api_addr is not a target.
 */
export const vaultEntryPointHealthChecked: StackValidationPolicy = {
    name: "vault-entry-point-health-checked",
    description:
        "On prod, clients reach Vault through a load balancer that targets every Vault server and health-checks each over HTTPS with /v1/sys/health?standbyok=true (200 on active and standby, 5xx when sealed).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "availability", "entry-point"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Keep `bonito-vault:entryPoint: loadBalancer` on prod with entryPointTargets listing every node; do not change the health check the program declares.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0 || !isProdStack(args)) return;
        const lbs = args.resources.filter(isLoadBalancer);
        if (lbs.length === 0) {
            report(
                `The prod stack declares no load balancer in front of its Vault servers; entryPoint ${entryPointProdReason()}.`,
            );
            return;
        }
        const checks = healthChecks(args.resources);
        if (checks.length === 0) report("The prod entry point declares no health check for its targets.");
        for (const c of checks) {
            const path = c.path.split("?")[0];
            const query = new URLSearchParams(c.path.split("?")[1] ?? "");
            if (!c.enabled) report(`Health check ${c.owner} is disabled.`);
            if (c.protocol !== "HTTPS")
                report(
                    `Health check ${c.owner} uses ${c.protocol}, not HTTPS: a ${c.protocol} check passes a sealed node; probe ${ENTRY_POINT_HEALTH_PATH} over HTTPS.`,
                );
            if (path !== "/v1/sys/health" || query.get("standbyok") !== "true")
                report(
                    `Health check ${c.owner} probes "${c.path}"; it must probe ${ENTRY_POINT_HEALTH_PATH} so standbys (which forward) count as healthy and sealed nodes do not.`,
                );
        }
        const targets = lbTargets(args.resources);
        const distinct = new Set(targets);
        if (distinct.size < servers.length)
            report(
                `The entry point sends traffic to ${distinct.size} target${distinct.size === 1 ? "" : "s"} but the stack runs ${servers.length} Vault servers; every node must be a target.`,
            );
        const ips = new Set(targets.map((t) => t.split(":")[0]));
        for (const s of servers)
            for (const cfg of serverConfigs(s.props, (m) => report(m, s.urn))) {
                const host = /^https?:\/\/([^:/]+)/.exec(str(cfg.json.api_addr) ?? "")?.[1];
                if (host && /^\d{1,3}(\.\d{1,3}){3}$/.test(host) && !ips.has(host))
                    report(`Vault server ${s.name} (api_addr ${host}) is not a target of the entry point.`, s.urn);
            }
    },
};
