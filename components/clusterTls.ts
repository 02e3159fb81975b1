/**
 * ClusterTls: the certificates every node serves and presents to its peers.
 *
 * internal-ca: a CA declared here (ECDSA P-256) signs one certificate per node, usable for server
 * and client auth so the same pair serves the API and authenticates the node when it joins
 * (Raft mTLS). provided: the operator's CA, certificate and key from config secrets.
 * Private keys only ever leave this component as Pulumi secrets.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { TlsConfig } from "./config";
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

export class ClusterTls extends pulumi.ComponentResource {
    /** The CA certificate clients pin (VAULT_CACERT). Not secret. */
    public readonly caCertPem: pulumi.Output<string>;
    /** One per node, in node order. */
    public readonly nodeCerts: NodeCertificate[];

    constructor(name: string, args: ClusterTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bonito:vault:ClusterTls", name, {}, opts);
        const { caCertPem, nodeCerts } = createClusterTls(name, this, args);
        this.caCertPem = caCertPem;
        this.nodeCerts = nodeCerts;
        this.registerOutputs({ caCertPem });
    }
}

function createClusterTls(
    name: string,
    self: pulumi.Resource,
    { tls: tlsCfg, organization, nodes }: ClusterTlsArgs,
): { caCertPem: pulumi.Output<string>; nodeCerts: NodeCertificate[] } {
    if (tlsCfg.mode === "provided") {
        const p = tlsCfg.provided!;
        const cert = {
            certPem: pulumi.output(p.cert),
            keyPem: pulumi.secret(p.key.reveal()),
            notAfter: pulumi.output(new Date(new X509Certificate(p.cert).validTo).toISOString()),
        };
        return { caCertPem: pulumi.output(p.caCert), nodeCerts: nodes.map(() => cert) };
    }
    if (tlsCfg.mode !== "internal-ca") throw new Error(`ClusterTls needs TLS on; tlsMode is ${tlsCfg.mode}`);

    const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: self });
    const caCert = new tls.SelfSignedCert(
        `${name}-ca`,
        {
            privateKeyPem: pulumi.secret(caKey.privateKeyPem),
            subject: { commonName: `${organization} Vault CA`, organization },
            isCaCertificate: true,
            setSubjectKeyId: true,
            allowedUses: CA_CERT_USES,
            validityPeriodHours: tlsCfg.caValidityHours,
            // Re-issuing the CA re-issues every node certificate; give operators a wide window.
            earlyRenewalHours: Math.min(tlsCfg.caValidityHours / 10, 8760),
        },
        { parent: self },
    );

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
    return { caCertPem: caCert.certPem, nodeCerts };
}
