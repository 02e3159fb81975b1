import type { ResourceValidationPolicy } from "@pulumi/policy";
import { PROD_SCHEMA, arr, isProdUrn, str, truthy } from "./lib/common";
import { TLS_CERT_HOURS, tlsLeafValidityReason } from "./lib/limits";

export const TLS_TYPES = {
    privateKey: "tls:index/privateKey:PrivateKey",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    locallySigned: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

/** Curves at least as strong as P-256 (the provider's default, P224, is not). */
const STRONG_CURVES = ["P256", "P384", "P521"];
const MIN_RSA_BITS = 2048;
/** Uses that make a certificate able to sign other certificates or revocation lists. */
const SIGNING_USES = ["cert_signing", "crl_signing"];

/**
 * The cluster's TLS material (`tls:` resources): keys strong enough, a leaf that lives at most as
 * long as a public CA would allow and cannot mint certificates, and a CA that is rotated within a
 * decade. A node certificate that can sign certificates turns one stolen node key into a new
 * trusted identity for every node and client.
 *
 * One-field changes that would undo the same protection, each covered here: `rsaBits` 1024 (or
 * any below 2048); `ecdsaCurve` P224 or removed (the provider's default is P224); a node
 * certificate's `validityPeriodHours` above 398 days on prod (or above 10 years anywhere);
 * `cert_signing` or `crl_signing` in a leaf's `allowedUses`; `isCaCertificate` on a locally
 * signed (node) certificate; a CA whose `validityPeriodHours` exceeds 10 years.
 */
export const tlsCertificateLimits: ResourceValidationPolicy = {
    name: "tls-certificate-limits",
    description:
        "tls: keys are RSA ≥ 2048 bits or ECDSA P-256 or stronger; leaf certificates live at most 398 days on prod (10 years elsewhere), cannot sign certificates and are not CAs; a CA lives at most 10 years.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["tls", "pki"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        'Keep the program\'s ClusterTls: ECDSA P256 keys, node certificates with tlsValidityHours ≤ 9552 on prod and allowedUses ["digital_signature", "key_encipherment", "server_auth", "client_auth"], the CA at tlsCaValidityHours ≤ 87600.',
    validateResource: (args, report) => {
        const p = args.props;
        if (args.type === TLS_TYPES.privateKey) {
            const alg = (str(p.algorithm) ?? "").toUpperCase();
            if (alg === "RSA") {
                const bits = Number(p.rsaBits ?? 2048);
                if (bits < MIN_RSA_BITS)
                    report(
                        `Private key ${args.name} is RSA ${bits} bits; use at least ${MIN_RSA_BITS} (or ECDSA P256).`,
                    );
            } else if (alg === "ECDSA") {
                const curve = str(p.ecdsaCurve) ?? "P224";
                if (!STRONG_CURVES.includes(curve.toUpperCase()))
                    report(
                        `Private key ${args.name} uses curve ${curve}${p.ecdsaCurve === undefined ? " (the provider's default)" : ""}; use P256 or stronger.`,
                    );
            }
            return;
        }
        if (args.type !== TLS_TYPES.selfSigned && args.type !== TLS_TYPES.locallySigned) return;
        const hours = Number(p.validityPeriodHours ?? 0);
        const isCa = truthy(p.isCaCertificate);
        const uses = arr(p.allowedUses).map(String);
        if (args.type === TLS_TYPES.selfSigned && isCa) {
            if (!(hours > 0) || hours > TLS_CERT_HOURS.caMax)
                report(
                    `CA certificate ${args.name} is valid ${hours} hours; at most ${TLS_CERT_HOURS.caMax} (10 years): a CA that outlives its operators is never rotated.`,
                );
            return;
        }
        if (isCa)
            report(
                `Certificate ${args.name} is signed by the cluster CA and marked isCaCertificate: a node certificate must not be a CA.`,
            );
        const signing = uses.filter((u) => SIGNING_USES.includes(u));
        if (signing.length > 0)
            report(
                `Leaf certificate ${args.name} allows ${signing.join(", ")}: it could mint trusted certificates; remove them from allowedUses.`,
            );
        const prod = isProdUrn(args.urn, args);
        const max = prod ? TLS_CERT_HOURS.leafProdMax : TLS_CERT_HOURS.leafMax;
        if (!(hours > 0) || hours > max)
            report(
                `Leaf certificate ${args.name} is valid ${hours} hours; tlsValidityHours ${prod ? tlsLeafValidityReason() : `must be at most ${max} hours`}.`,
            );
    },
};
