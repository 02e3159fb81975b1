/**
 * ClusterTls: the certificates every node serves and presents to its peers.
 *
 * internal-ca: a CA declared here (ECDSA P-256) signs one certificate per node, usable for server
 * and client auth so the same pair serves the API and authenticates the node when it joins
 * (Raft mTLS). provided: the operator's CA, certificate and key from config secrets.
 * Private keys only ever leave this component as Pulumi secrets.
 *
 * A CA change (internal-ca) moves between two CA slots, `a` (the names every stack has had since
 * its first `up`) and `b`: `tlsCaTrusted` says which CAs exist and make up the bundle every node and
 * client trusts (`caCertPem`), `tlsCaIssuing` which one signs the node certificates. Trust both,
 * issue from the new one, drop the old one (docs/runbook.md "Rotating certificates"): clients never
 * meet a certificate they do not trust. The certificates reach the nodes through NodeTls
 * (components/tls/nodeTls.ts), without a restart.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { caEarlyRenewalHours, type CaSlot, type TlsConfig } from "./config/core";
import type { NodePlan } from "./topology";

export interface ClusterTlsArgs {
    /** tlsMode internal-ca or provided (upstream-proxy declares no ClusterTls), validity, provided PEMs. */
    tls: TlsConfig;
    /** The CA's subject organisation (`<cluster>-<stack>`). */
    organization: string;
    /** Which certificates to issue (one per node) and their SANs. */
    nodes: NodePlan[];
}

export interface NodeCertificate {
    certPem: pulumi.Output<string>;
    /** Secret. */
    keyPem: pulumi.Output<string>;
    /** When the certificate expires (RFC 3339): the certificate-expiry alert's input. */
    notAfter: pulumi.Output<string>;
}

/** Key usages of every node certificate: TLS server (API, join listener) and client (retry_join). */
export const NODE_CERT_USES = ["digital_signature", "key_encipherment", "server_auth", "client_auth"];
export const CA_CERT_USES = ["cert_signing", "crl_signing", "digital_signature"];

/** Each trusted CA's end (RFC 3339), by name (`ca-a`, `ca-b`; `ca` for a provided one): the CA-expiry alert's input. */
export type CaNotAfter = Record<string, pulumi.Output<string>>;

export class ClusterTls extends pulumi.ComponentResource {
    /** The CA bundle clients pin (VAULT_CACERT): every trusted CA. Not secret. */
    public readonly caCertPem: pulumi.Output<string>;
    /** One per node, in node order. */
    public readonly nodeCerts: NodeCertificate[];
    /** When each trusted CA certificate expires. */
    public readonly caNotAfter: CaNotAfter;

    constructor(name: string, args: ClusterTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:ClusterTls", name, {}, opts);
        const { caCertPem, nodeCerts, caNotAfter } = createClusterTls(name, this, args);
        this.caCertPem = caCertPem;
        this.nodeCerts = nodeCerts;
        this.caNotAfter = caNotAfter;
        this.registerOutputs({ caCertPem });
    }
}

/** The trust bundle: each CA's PEM once, one after the other. */
export function caBundle(pems: readonly string[]): string {
    return pems.map((p) => p.trim() + "\n").join("");
}

/** The resource names of a CA slot: slot `a` keeps the names every stack has had from its first `up`. */
export function caSlotNames(name: string, slot: CaSlot): { key: string; cert: string } {
    const suffix = slot === "a" ? "" : `-${slot}`;
    return { key: `${name}-ca${suffix}-key`, cert: `${name}-ca${suffix}` };
}

function createClusterTls(
    name: string,
    self: pulumi.Resource,
    { tls: tlsCfg, organization, nodes }: ClusterTlsArgs,
): { caCertPem: pulumi.Output<string>; nodeCerts: NodeCertificate[]; caNotAfter: CaNotAfter } {
    if (tlsCfg.mode === "provided") {
        const p = tlsCfg.provided!;
        const cert = {
            certPem: pulumi.output(p.cert),
            keyPem: pulumi.secret(p.key.reveal()),
            notAfter: pulumi.output(new Date(new X509Certificate(p.cert).validTo).toISOString()),
        };
        return {
            caCertPem: pulumi.output(p.caCert),
            nodeCerts: nodes.map(() => cert),
            caNotAfter: { ca: pulumi.output(new Date(issuerOf(p.caCert, p.cert).validTo).toISOString()) },
        };
    }
    if (tlsCfg.mode !== "internal-ca") throw new Error(`ClusterTls needs TLS on; tlsMode is ${tlsCfg.mode}`);

    const cas = new Map<CaSlot, { key: tls.PrivateKey; cert: tls.SelfSignedCert }>();
    for (const slot of tlsCfg.ca.trusted) {
        const n = caSlotNames(name, slot);
        const key = new tls.PrivateKey(n.key, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: self });
        const cert = new tls.SelfSignedCert(
            n.cert,
            {
                privateKeyPem: pulumi.secret(key.privateKeyPem),
                subject: { commonName: `${organization} Vault CA`, organization },
                isCaCertificate: true,
                setSubjectKeyId: true,
                allowedUses: CA_CERT_USES,
                validityPeriodHours: tlsCfg.caValidityHours,
                // Renewed with the same key, so clients pinning the old certificate keep verifying the
                // re-issued node certificates until it expires: a wide window to hand them the new one.
                earlyRenewalHours: caEarlyRenewalHours(tlsCfg.caValidityHours),
            },
            { parent: self },
        );
        cas.set(slot, { key, cert });
    }
    const issuing = cas.get(tlsCfg.ca.issuing);
    if (!issuing) throw new Error(`ClusterTls: the issuing CA ${tlsCfg.ca.issuing} is not among the trusted ones`);
    const caKey = issuing.key;
    const caCert = issuing.cert;

    const nodeCerts = nodes.map((node) => {
        const key = new tls.PrivateKey(
            `${name}-${node.name}-key`,
            { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { parent: self },
        );
        const csr = new tls.CertRequest(
            `${name}-${node.name}-csr`,
            {
                privateKeyPem: pulumi.secret(key.privateKeyPem),
                subject: { commonName: node.name, organization },
                dnsNames: node.sans.dnsNames,
                ipAddresses: node.sans.ipAddresses,
            },
            { parent: self },
        );
        const cert = new tls.LocallySignedCert(
            `${name}-${node.name}-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: pulumi.secret(caKey.privateKeyPem),
                caCertPem: caCert.certPem,
                allowedUses: NODE_CERT_USES,
                validityPeriodHours: tlsCfg.validityHours,
                earlyRenewalHours: tlsCfg.earlyRenewalHours,
                setSubjectKeyId: true,
            },
            { parent: self },
        );
        return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem), notAfter: cert.validityEndTime };
    });
    const trusted = [...cas.values()].map((c) => c.cert.certPem);
    return {
        // One trusted CA: its PEM exactly as before (a stack without a CA change sees no diff).
        caCertPem: trusted.length === 1 ? trusted[0] : pulumi.all(trusted).apply(caBundle),
        nodeCerts,
        caNotAfter: Object.fromEntries([...cas.entries()].map(([slot, c]) => [`ca-${slot}`, c.cert.validityEndTime])),
    };
}

/** In a provided bundle, the CA that issued `leafPem` (else the first): whose expiry the alert watches. */
export function issuerOf(bundle: string, leafPem: string): X509Certificate {
    const certs = (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
        (p) => new X509Certificate(p),
    );
    const leaf = new X509Certificate(leafPem);
    return certs.find((c) => leaf.checkIssued(c)) ?? certs[0];
}
