import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, TYPES, isProdUrn, serverConfigs, tcpListeners, vaultRole } from "./lib/common";
import { listenerName, tlsDisabled, tlsRank } from "./lib/listener";
import { tlsMinVersionReason } from "./lib/limits";

/**
 * TLS 1.0/1.1 are deprecated (RFC 8996); prod takes TLS 1.3 only.
 *
 * One-field changes that would undo the same protection, each covered here: `tls_min_version`
 * lowered (tls10, tls11; tls12 on prod), removed (Vault's default is tls12), or misspelt (`TLS13`,
 * `1.3`: refused as unknown), on any listener.
 */
export const vaultListenerTlsMinVersion: ResourceValidationPolicy = {
    name: "vault-listener-tls-min-version",
    description: "Every TLS listener sets tls_min_version of at least tls12, and exactly tls13 on prod.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "tls"],
    configSchema: PROD_SCHEMA,
    remediationSteps: "Set `bonito-vault:tlsMinVersion` to tls13 (required on prod) or tls12 elsewhere.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) !== "server") return;
        const prod = isProdUrn(args.urn, args);
        for (const cfg of serverConfigs(args.props, report)) {
            tcpListeners(cfg.json).forEach((l, i) => {
                if (tlsDisabled(l)) return;
                const rank = tlsRank(l.tls_min_version);
                const shown =
                    l.tls_min_version === undefined
                        ? "unset (Vault defaults to tls12)"
                        : JSON.stringify(l.tls_min_version);
                if (rank === undefined || rank < 12)
                    report(`${cfg.file}: ${listenerName(l, i)} tls_min_version is ${shown}; use tls12 or tls13.`);
                else if (prod && rank < 13)
                    report(
                        `${cfg.file}: ${listenerName(l, i)} tls_min_version is ${shown} on prod; tls_min_version ${tlsMinVersionReason()}.`,
                    );
            });
        }
    },
};
