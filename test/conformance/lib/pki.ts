/**
 * Test-time certificates with openssl, made from what ClusterTls declares: the same key type
 * (ECDSA P-256), subject, SANs and key usages, so Vault checks exactly the names and usages a
 * deployed cluster's certificates carry. A second, unrelated CA signs the "stranger" client
 * certificate that the mTLS join listener must refuse.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { DeclaredCert } from "./declared";

/** @pulumi/tls allowed_uses → openssl keyUsage / extendedKeyUsage names. */
const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature",
    key_encipherment: "keyEncipherment",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
};
const EXT_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

export function extensions(c: DeclaredCert, isCa: boolean): string {
    const unknown = c.allowedUses.filter((u) => !KEY_USAGE[u] && !EXT_KEY_USAGE[u]);
    if (unknown.length) throw new Error(`pki: no openssl mapping for allowed use(s) ${unknown.join(", ")}`);
    const ku = c.allowedUses.filter((u) => KEY_USAGE[u]).map((u) => KEY_USAGE[u]);
    const eku = c.allowedUses.filter((u) => EXT_KEY_USAGE[u]).map((u) => EXT_KEY_USAGE[u]);
    const san = [...c.dnsNames.map((d) => `DNS:${d}`), ...c.ipAddresses.map((ip) => `IP:${ip}`)];
    return [
        `basicConstraints=critical,CA:${isCa ? "TRUE" : "FALSE"}`,
        ku.length ? `keyUsage=critical,${ku.join(",")}` : "",
        eku.length ? `extendedKeyUsage=${eku.join(",")}` : "",
        san.length ? `subjectAltName=${san.join(",")}` : "",
        "subjectKeyIdentifier=hash",
    ]
        .filter(Boolean)
        .join("\n");
}

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export interface Issued {
    cert: string;
    key: string;
}

export class TestCa {
    readonly certFile: string;
    readonly keyFile: string;
    constructor(
        readonly dir: string,
        ca: DeclaredCert,
        organization: string,
    ) {
        fs.mkdirSync(dir, { recursive: true });
        this.keyFile = path.join(dir, "ca-key.pem");
        this.certFile = path.join(dir, "ca.pem");
        const ext = path.join(dir, "ca.ext");
        fs.writeFileSync(ext, extensions(ca, true) + "\n");
        openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", this.keyFile], dir);
        openssl(
            [
                "req",
                "-x509",
                "-new",
                "-key",
                this.keyFile,
                "-subj",
                `/O=${organization}/CN=${ca.commonName}`,
                "-days",
                "2",
                "-out",
                this.certFile,
                "-extensions",
                "v3",
                "-config",
                this.writeConfig(ext),
            ],
            dir,
        );
    }

    private writeConfig(extFile: string): string {
        const cnf = path.join(this.dir, `${path.basename(extFile)}.cnf`);
        fs.writeFileSync(cnf, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${fs.readFileSync(extFile, "utf8")}`);
        return cnf;
    }

    get pem(): string {
        return fs.readFileSync(this.certFile, "utf8");
    }

    /** Issue a leaf certificate for `c` into `<dir>/<name>.pem` and `<name>-key.pem`. */
    issue(name: string, c: DeclaredCert, organization: string): Issued {
        const key = path.join(this.dir, `${name}-key.pem`);
        const csr = path.join(this.dir, `${name}.csr`);
        const cert = path.join(this.dir, `${name}.pem`);
        const ext = path.join(this.dir, `${name}.ext`);
        fs.writeFileSync(ext, extensions(c, false) + "\n");
        openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], this.dir);
        openssl(["req", "-new", "-key", key, "-subj", `/O=${organization}/CN=${c.commonName}`, "-out", csr], this.dir);
        openssl(
            [
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                this.certFile,
                "-CAkey",
                this.keyFile,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext,
                "-out",
                cert,
            ],
            this.dir,
        );
        return { cert, key };
    }
}
