import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, serverConfigs, str, tcpListeners, vaultRole } from "./lib/common";
import { listenerName, tlsDisabled, tlsRank } from "./lib/listener";

/**
 * TLS 1.2 suites with an AEAD cipher (AES-GCM, ChaCha20-Poly1305) and an ephemeral (ECDHE) key
 * exchange; the TLS 1.3 names are accepted too (Go ignores them for 1.2 and picks 1.3's itself).
 */
const AEAD_SUITE =
    /^TLS_(ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305(_SHA256)?)|AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/;

/**
 * When a listener still accepts TLS 1.2, the suites it lists decide what a downgrading client gets:
 * CBC suites (Lucky13, POODLE-style padding oracles), RC4 and 3DES, and static-RSA key exchange
 * (no forward secrecy: one leaked node key decrypts every recorded session) are refused. Vault
 * reads `tls_cipher_suites` as a comma-separated string of Go's names.
 *
 * One-field changes that would undo the same protection, each covered here: a
 * `tls_cipher_suites` list with a `_CBC_` suite, `RC4`, `3DES`, `NULL`, or a `TLS_RSA_WITH_…`
 * suite, written as a string or a list, on any listener that allows TLS 1.2 (tls_min_version
 * tls12, lower, or unset). Listeners that are TLS 1.3 only are left alone (Go ignores the list).
 */
export const vaultListenerTlsCipherSuites: ResourceValidationPolicy = {
    name: "vault-listener-tls-cipher-suites",
    description:
        "A listener that allows TLS 1.2 lists, in tls_cipher_suites, only ECDHE suites with AES-GCM or ChaCha20-Poly1305: no CBC, RC4, 3DES, NULL or static-RSA suites.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "tls"],
    remediationSteps:
        "Remove tls_cipher_suites (Go's defaults are safe), or list only TLS_ECDHE_*_WITH_AES_*_GCM_* and TLS_ECDHE_*_WITH_CHACHA20_POLY1305 suites; better, set tlsMinVersion tls13.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container || vaultRole(args.props) === undefined) return;
        for (const cfg of serverConfigs(args.props, report))
            tcpListeners(cfg.json).forEach((l, i) => {
                if (tlsDisabled(l)) return;
                const rank = tlsRank(l.tls_min_version);
                if (rank !== undefined && rank >= 13) return;
                const raw = l.tls_cipher_suites;
                const suites = (typeof raw === "string" ? raw.split(",") : arr(raw).map(String))
                    .map((s) => s.trim())
                    .filter((s) => s !== "");
                const bad = suites.filter((s) => !AEAD_SUITE.test(s.toUpperCase()));
                if (bad.length > 0)
                    report(
                        `${cfg.file}: ${listenerName(l, i)} allows TLS 1.2 (tls_min_version ${str(l.tls_min_version) ?? "unset"}) with ${bad.join(", ")}: not an ECDHE AEAD suite; list only ECDHE AES-GCM/ChaCha20-Poly1305 suites or use tls13.`,
                    );
            });
    },
};
