import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, isProdStack, serverConfigs, str, vaultServers } from "./lib/common";
import { healthChecks, isLoadBalancer, lbTargets } from "./lib/entryPoint";
import { ENTRY_POINT_HEALTH_CODES, ENTRY_POINT_HEALTH_PATH, entryPointProdReason } from "./lib/limits";

/** Every code an aws matcher (`200`, `200,429`, `200-599`) counts as healthy; undefined if unreadable. */
function matcherCodes(m: string): number[] | undefined {
    const out: number[] = [];
    for (const part of m.split(",").map((x) => x.trim())) {
        const r = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
        if (!r) return undefined;
        for (let c = Number(r[1]); c <= Number(r[2] ?? r[1]); c++) out.push(c);
    }
    return out;
}

/**
 * Clients reach prod through one name that keeps answering while a node is down: a load balancer
 * that sends traffic only to nodes Vault itself calls healthy. The check must be Vault's health
 * endpoint over HTTPS (a TCP check passes a sealed node, which answers every request with 503) and
 * must tolerate standbys (`standbyok=true`), or only the active node ever takes traffic and a
 * leader change drops every client.
 *
 * One-field changes that would undo the same protection, each covered here: the load balancer
 * removed; the health check switched to TCP or HTTP, pointed at another path, or without
 * standbyok, or disabled; a query parameter that makes a sealed, uninitialised or other node
 * answer a healthy code (`sealedcode=200`, `uninitcode=200`, any `…code=`); an aws matcher wider
 * than 200 (`200-599`, `200,503`, `200-399`, or removed: AWS's default is 200-399); a node's target (aws attachment, gcp endpoint, azure pool address)
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
            const codes = [...query.keys()].filter((k) => /code$/i.test(k));
            if (codes.length > 0)
                report(
                    `Health check ${c.owner} sets ${codes.map((k) => `${k}=${query.get(k) ?? ""}`).join(", ")}: Vault then answers a sealed, uninitialised or other unfit node with that code; remove it.`,
                );
            if (c.matcher !== undefined) {
                const got = matcherCodes(c.matcher);
                const extra = got?.filter((x) => !(ENTRY_POINT_HEALTH_CODES as readonly number[]).includes(x));
                if (!got || extra!.length > 0)
                    report(
                        `Health check ${c.owner} counts "${c.matcher}" as healthy; only ${ENTRY_POINT_HEALTH_CODES.join(",")} means a node that can serve (5xx is sealed or uninitialised).`,
                    );
            }
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
