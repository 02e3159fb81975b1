/**
 * gcp: a key ring and an ENCRYPT_DECRYPT crypto key (or an adopted key), a service account, and a
 * custom role holding exactly the seal's three permissions, bound on the key (not the project).
 * Nodes on GCE use the attached account; elsewhere a JSON key travels as a secret file.
 */
import * as kms from "@pulumi/gcp/kms";
import * as projects from "@pulumi/gcp/projects";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import type { GcpUnseal } from "../config/unseal";
import { type SealDelivery, type SealFile, gcpStanza } from "../seal";
import { GCP_SEAL_PERMISSIONS, gcpRotationPeriod } from "./iam";

/** Where the key file lands in every Vault container (beside the server config, mode 0400). */
export const GCP_CREDENTIALS_PATH = "/vault/config/gcp-credentials.json";

export function createGcpUnseal(name: string, parent: pulumi.Resource, u: GcpUnseal): SealDelivery {
    const child = { parent };
    const keep = { ...child, protect: true, retainOnDelete: true };

    let cryptoKeyId: pulumi.Output<string>;
    if (u.adopt) {
        cryptoKeyId = pulumi.output(
            `projects/${u.project}/locations/${u.location}/keyRings/${u.keyRing}/cryptoKeys/${u.cryptoKey}`,
        );
    } else {
        // Key rings can never be deleted in GCP; the name is spent once created.
        const ring = new kms.KeyRing(
            `${name}-key-ring`,
            { name: u.keyRing, location: u.location, project: u.project },
            keep,
        );
        const key = new kms.CryptoKey(
            `${name}-kms-key`,
            {
                name: u.cryptoKey,
                keyRing: ring.id,
                purpose: "ENCRYPT_DECRYPT",
                rotationPeriod: gcpRotationPeriod(u.rotationDays),
                versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: u.protectionLevel },
                destroyScheduledDuration: `${30 * 86400}s`,
                // A second lock besides `protect`: the provider itself refuses to destroy the key.
                deletionPolicy: "PREVENT",
                labels: { "bonito-purpose": "vault-auto-unseal" },
            },
            // Losing the key loses every snapshot: never delete it from here, never replace it.
            keep,
        );
        cryptoKeyId = key.id;
    }

    const account = new serviceaccount.Account(
        `${name}-identity`,
        {
            project: u.project,
            accountId: u.serviceAccountId,
            displayName: "Vault auto-unseal",
            description: `Encrypts and decrypts with ${u.keyRing}/${u.cryptoKey} only`,
        },
        child,
    );
    const role = new projects.IAMCustomRole(
        `${name}-role`,
        {
            project: u.project,
            roleId: u.roleId,
            title: "Vault auto-unseal",
            description: "Exactly what Vault's gcpckms seal uses: encrypt, decrypt, read the key",
            permissions: [...GCP_SEAL_PERMISSIONS],
            stage: "GA",
        },
        child,
    );
    const binding = new kms.CryptoKeyIAMMember(
        `${name}-key-binding`,
        {
            cryptoKeyId,
            role: pulumi.all([role.project, role.roleId]).apply(([p, r]) => `projects/${p}/roles/${r}`),
            member: account.member,
        },
        child,
    );

    const files: SealFile[] = [];
    let env: pulumi.Output<string[]> = pulumi.secret(pulumi.output([] as string[]));
    if (u.identity === "key") {
        const saKey = new serviceaccount.Key(`${name}-identity-key`, { serviceAccountId: account.email }, child);
        files.push({
            path: GCP_CREDENTIALS_PATH,
            content: pulumi.secret(saKey.privateKey.apply((b64) => Buffer.from(b64, "base64").toString("utf8"))),
        });
        // The path is not secret, but every seal env value is delivered as one secret list.
        env = pulumi.secret(pulumi.output([`GOOGLE_APPLICATION_CREDENTIALS=${GCP_CREDENTIALS_PATH}`]));
    }

    return {
        stanza: pulumi.output(gcpStanza(u.project, u.location, u.keyRing, u.cryptoKey)),
        env,
        files,
        dependsOn: [binding],
        keyId: cryptoKeyId,
        identity: account.email,
    };
}
