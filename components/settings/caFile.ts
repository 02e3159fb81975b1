/**
 * The CA file the @pulumi/vault provider reads. @pulumi/vault 7.8 takes the CA only as a path
 * (`caCertFile`, `caCertDir`; no inline PEM), and the provider keeps that path in state:
 * `pulumi refresh` and `pulumi destroy` configure the provider from state without running this
 * program. So the path is relative to the project root (where the engine starts provider plugins),
 * stable per stack, and `npm run ca-file -- <stack>` recreates the file on a fresh clone from the
 * stack's state and its `caCert` output (docs/vault-settings.md, "Refresh and destroy on a fresh clone").
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where Pulumi.yaml is; the engine runs the program and provider plugins in this directory. */
export const PROJECT_ROOT = path.join(__dirname, "..", "..");
/** Ignored by git: written by `pulumi up`/`preview` and by `npm run ca-file`. */
export const CA_DIR = ".bonito-vault";

/** Relative to the project root. */
export function providerCaCertPath(stack: string): string {
    return `${CA_DIR}/${stack}-vault-ca.pem`;
}

/** Write the CA where `rel` (a provider's caCertFile) points below `root`; returns the absolute path. */
export function writeCaFile(root: string, rel: string, pem: string): string {
    if (path.isAbsolute(rel) || path.normalize(rel).startsWith(".."))
        throw new Error(
            `the Vault provider in this stack's state reads its CA from ${rel}, outside the project; ` +
                "run `pulumi up` once with this version of the program to move it into the project",
        );
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== pem) fs.writeFileSync(file, pem, { mode: 0o644 });
    return file;
}

/** The program's side: write the stack's CA file and hand the provider its relative path. */
export function providerCaCertFile(stack: string, pem: string, root = PROJECT_ROOT): string {
    const rel = providerCaCertPath(stack);
    writeCaFile(root, rel, pem);
    return rel;
}

interface StackExport {
    deployment?: { resources?: { type?: string; inputs?: Record<string, unknown> }[] };
}

/**
 * The fresh-clone side: every CA file the stack's Vault providers read (from `pulumi stack export`),
 * written from the stack's `caCert` output. Returns the absolute paths written.
 */
export function recreateCaFiles(exported: StackExport, caCert: string, root = PROJECT_ROOT): string[] {
    if (!caCert) throw new Error("the stack has no caCert output: run `pulumi up` first");
    const files = (exported.deployment?.resources ?? [])
        .filter((r) => r.type === "pulumi:providers:vault" && typeof r.inputs?.caCertFile === "string")
        .map((r) => String(r.inputs!.caCertFile));
    return [...new Set(files)].map((rel) => writeCaFile(root, rel, caCert));
}
