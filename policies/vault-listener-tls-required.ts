import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
    PROD_SCHEMA,
    TLS_MODE_LABEL,
    TYPES,
    isProdUrn,
    labelsOf,
    serverConfigs,
    str,
    tcpListeners,
    vaultRole,
} from "./lib/common";
import { listenerName, tlsDisabled } from "./lib/listener";

/**
 * Seed §5: all Vault traffic is encrypted. Option B (TLS at a trusted proxy on a private network) is
 * accepted only where the stack config opted in, which the program states on the container with the
 * `bonito.tls-mode=upstream-proxy` label, and never on prod.
 *
 * One-field changes that would undo the same protection, each covered here: `tls_disable` as
 * `true`, `"true"`, `"1"`, `"t"` or 1, on any listener (the join listener as well as the API one);
 * `tls_cert_file` or `tls_key_file` removed; the listener written as an object instead of a list;
 * the upstream-proxy label added on prod (prod refuses tls_disable whatever the label says).
 */
export const vaultListenerTlsRequired: ResourceValidationPolicy = {
    name: "vault-listener-tls-required",
    description:
        "Every tcp listener in a Vault server's rendered config terminates TLS (certificate and key files set), unless the stack opted into TLS at a trusted upstream proxy; never on prod.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "tls", "seed-5"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Leave `bonito-vault:tlsMode` at `internal-ca` (or `provided`). Only outside prod, and only when a trusted proxy on a private network terminates TLS, set `tlsMode: upstream-proxy` with `tlsTerminatesAtTrustedProxy: true`.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) !== "server") return;
        const prod = isProdUrn(args.urn, args);
        const optedIn = labelsOf(args.props).get(TLS_MODE_LABEL) === "upstream-proxy";
        for (const cfg of serverConfigs(args.props, report)) {
            const listeners = tcpListeners(cfg.json);
            if (listeners.length === 0) report(`${cfg.file} declares no tcp listener.`);
            listeners.forEach((l, i) => {
                if (tlsDisabled(l)) {
                    if (prod)
                        report(
                            `${cfg.file}: ${listenerName(l, i)} has tls_disable on the prod stack; Vault itself must terminate TLS on prod.`,
                        );
                    else if (!optedIn)
                        report(
                            `${cfg.file}: ${listenerName(l, i)} has tls_disable without the upstream-TLS opt-in; set tlsMode: upstream-proxy and tlsTerminatesAtTrustedProxy: true, or turn TLS on.`,
                        );
                } else if (!str(l.tls_cert_file) || !str(l.tls_key_file)) {
                    report(`${cfg.file}: ${listenerName(l, i)} has TLS on but no tls_cert_file/tls_key_file.`);
                }
            });
        }
    },
};
