import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
    PROD_SCHEMA,
    TYPES,
    arr,
    isProdUrn,
    obj,
    serverConfigs,
    storageOf,
    str,
    tcpListeners,
    truthy,
    vaultRole,
} from "./lib/common";
import { tlsDisabled } from "./lib/listener";

/**
 * On prod, nodes prove who they are: a listener requires CA-signed client certificates and every
 * retry_join presents the node's client certificate, so a stranger on the network cannot join Raft.
 *
 * One-field changes that would undo the same protection, each covered here: on the join listener,
 * `tls_require_and_verify_client_cert` removed or `"false"`, `tls_client_ca_file` removed,
 * `tls_disable_client_certs` set (any truthy form); a retry_join without its CA, client certificate
 * or key, or with an http leader address.
 */
export const vaultListenerMtlsProd: ResourceValidationPolicy = {
    name: "vault-listener-mtls-prod",
    description:
        "On prod, a TLS listener requires and verifies client certificates against the cluster CA, and every Raft retry_join presents a client certificate and pins the leader CA.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "tls", "raft"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Keep `bonito-vault:mtls: true` on prod (the default): the program renders the join listener and the retry_join client certificates.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) !== "server" || !isProdUrn(args.urn, args)) return;
        for (const cfg of serverConfigs(args.props, report)) {
            const mtls = tcpListeners(cfg.json).some(
                (l) =>
                    !tlsDisabled(l) &&
                    truthy(l.tls_require_and_verify_client_cert) &&
                    !!str(l.tls_client_ca_file) &&
                    !truthy(l.tls_disable_client_certs),
            );
            if (!mtls)
                report(
                    `${cfg.file}: no listener requires client certificates (tls_require_and_verify_client_cert with tls_client_ca_file); mTLS is required on prod.`,
                );
            const storage = storageOf(cfg.json);
            if (storage?.type !== "raft") continue;
            arr(storage.settings.retry_join).forEach((j, i) => {
                const o = obj(j) ?? {};
                const missing = ["leader_ca_cert_file", "leader_client_cert_file", "leader_client_key_file"].filter(
                    (k) => !str(o[k]),
                );
                if (missing.length > 0)
                    report(
                        `${cfg.file}: retry_join ${i} (${str(o.leader_api_addr) ?? "?"}) lacks ${missing.join(", ")}; nodes must join with mTLS on prod.`,
                    );
                else if (!/^https:/.test(str(o.leader_api_addr) ?? ""))
                    report(`${cfg.file}: retry_join ${i} leader_api_addr is not https.`);
            });
        }
    },
};
