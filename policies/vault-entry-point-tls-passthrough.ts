import type { StackValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, TLS_MODE_LABEL, isProdStack, vaultServers } from "./lib/common";
import { serversStated, tlsTerminators } from "./lib/entryPoint";

/**
 * TLS runs end to end: the load balancer passes TCP through and the client verifies Vault's own
 * certificate (whose SANs hold the entry point's name). A listener that terminates TLS would see
 * every token and secret in clear and re-encrypt — or not — to Vault. Accepted only outside prod
 * and only where the stack opted into TLS at a trusted proxy (`tlsMode: upstream-proxy` with
 * `tlsTerminatesAtTrustedProxy: true`, stated on the servers by `bonito.tls-mode=upstream-proxy`).
 *
 * One-field changes that would undo the same protection, each covered here: an aws listener set
 * to TLS or HTTPS (or given a certificate), an application load balancer, a target group speaking
 * TLS/HTTP(S); a gcp backend service protocol other than TCP, or an HTTPS/SSL target proxy; an
 * Azure application gateway.
 */
export const vaultEntryPointTlsPassthrough: StackValidationPolicy = {
    name: "vault-entry-point-tls-passthrough",
    description:
        "Load balancers in front of Vault pass TCP through (TLS ends at Vault); a TLS-terminating listener only outside prod where the stack states tlsTerminatesAtTrustedProxy.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "tls", "entry-point", "seed-5"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Keep the entry point the program declares (TCP listeners, TCP backend services). Only outside prod, with tlsMode upstream-proxy and tlsTerminatesAtTrustedProxy: true, may a proxy terminate TLS.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        const optedIn = !isProdStack(args) && serversStated(servers, TLS_MODE_LABEL, "upstream-proxy");
        if (optedIn) return;
        for (const t of tlsTerminators(args.resources))
            report(
                `${t.where}: TLS must pass through to Vault${isProdStack(args) ? " on prod" : " unless the stack states tlsTerminatesAtTrustedProxy (tlsMode upstream-proxy)"}.`,
                t.urn,
            );
    },
};
