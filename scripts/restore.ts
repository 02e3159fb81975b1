/**
 * Restore a Raft snapshot into a stack's cluster.
 *
 *   VAULT_TOKEN=<sudo token> npm run restore -- --stack prod --snapshot <file | s3://… | gs://… | https://<acct>.blob.core.windows.net/…> --confirm [--force] [--addr https://127.0.0.1:8200] [--ca-cert ca.pem]
 *
 * The snapshot is fetched with the cloud's own CLI (aws, gcloud, az: logged in as a reader, not as
 * the snapshot writer, which cannot read), then POSTed by components/backup/restore.ts. Without
 * --confirm nothing is fetched or sent. The token comes only from VAULT_TOKEN, never argv.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONFIRMATION_REQUIRED, restoreSnapshot } from "../components/backup/restore";

export interface RestoreArgs {
    stack: string;
    snapshot: string;
    confirm: boolean;
    force: boolean;
    addr?: string;
    caCertFile?: string;
}

export const USAGE =
    "usage: npm run restore -- --stack <stack> --snapshot <file|s3://bucket/key|gs://bucket/object|https://<account>.blob.core.windows.net/<container>/<blob>> --confirm [--force] [--addr <url>] [--ca-cert <pem file>]  (token from VAULT_TOKEN)";

/** Parse argv (after `--`); throws with a sentence on anything missing or unknown. */
export function parseRestoreArgs(argv: string[]): RestoreArgs {
    const out: Partial<RestoreArgs> = { confirm: false, force: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value\n${USAGE}`);
            return v;
        };
        switch (a) {
            case "--stack":
                out.stack = value();
                break;
            case "--snapshot":
                out.snapshot = value();
                break;
            case "--addr":
                out.addr = value();
                break;
            case "--ca-cert":
                out.caCertFile = value();
                break;
            case "--confirm":
                out.confirm = true;
                break;
            case "--force":
                out.force = true;
                break;
            case "--token":
                throw new Error(
                    "--token is not accepted: a token on the command line lands in shell history; set VAULT_TOKEN",
                );
            default:
                throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
        }
    }
    if (!out.stack) throw new Error(`--stack is required\n${USAGE}`);
    if (!out.snapshot) throw new Error(`--snapshot is required\n${USAGE}`);
    return out as RestoreArgs;
}

export type FetchPlan =
    { kind: "file"; path: string } | { kind: "command"; command: string; args: string[]; output: string };

/** How to get the snapshot onto local disk: a file as is, or one cloud CLI call writing `tmpFile`. */
export function planFetch(ref: string, tmpFile: string): FetchPlan {
    let m = /^s3:\/\/([^/]+)\/(.+?)(?:\?versionId=(.+))?$/.exec(ref);
    if (m) {
        const args = ["s3api", "get-object", "--bucket", m[1], "--key", m[2]];
        if (m[3]) args.push("--version-id", m[3]);
        return { kind: "command", command: "aws", args: [...args, tmpFile], output: tmpFile };
    }
    m = /^gs:\/\/([^/]+)\/(.+)$/.exec(ref);
    if (m) return { kind: "command", command: "gcloud", args: ["storage", "cp", ref, tmpFile], output: tmpFile };
    m = /^https:\/\/([a-z0-9]{3,24})\.blob\.core\.windows\.net\/([^/]+)\/(.+)$/.exec(ref);
    if (m)
        return {
            kind: "command",
            command: "az",
            args: [
                "storage",
                "blob",
                "download",
                "--auth-mode",
                "login",
                "--account-name",
                m[1],
                "--container-name",
                m[2],
                "--name",
                m[3],
                "--file",
                tmpFile,
            ],
            output: tmpFile,
        };
    if (/^[a-z0-9]+:\/\//i.test(ref)) throw new Error(`unsupported snapshot location ${JSON.stringify(ref)}\n${USAGE}`);
    return { kind: "file", path: ref };
}

function stackOutput(stack: string, name: string): string | undefined {
    try {
        const raw = execFileSync("pulumi", ["stack", "output", "--stack", stack, "--json", "--show-secrets"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
        });
        const v = (JSON.parse(raw) as Record<string, unknown>)[name];
        return typeof v === "string" ? v : undefined;
    } catch {
        return undefined;
    }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
    const args = parseRestoreArgs(argv);
    if (!args.confirm) {
        console.error(CONFIRMATION_REQUIRED);
        return 2;
    }
    const token = env.VAULT_TOKEN;
    if (!token)
        throw new Error(
            "VAULT_TOKEN is not set: use a root token from `vault operator generate-root` (sudo is required)",
        );
    const addr = args.addr ?? env.VAULT_ADDR ?? stackOutput(args.stack, "vaultAddr");
    if (!addr) throw new Error("no Vault address: pass --addr or set VAULT_ADDR");
    const caFile = args.caCertFile ?? env.VAULT_CACERT;
    const caCert = caFile ? fs.readFileSync(caFile, "utf8") : stackOutput(args.stack, "caCert");

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bonito-restore-"));
    try {
        const plan = planFetch(args.snapshot, path.join(dir, "snapshot.snap"));
        if (plan.kind === "command") {
            console.error(`fetching with: ${plan.command} ${plan.args.join(" ")}`);
            execFileSync(plan.command, plan.args, { stdio: ["ignore", "inherit", "inherit"] });
        }
        const file = plan.kind === "file" ? plan.path : plan.output;
        const result = await restoreSnapshot({
            addr,
            caCert,
            token,
            snapshot: file,
            force: args.force,
            confirm: true,
            verifyUnsealedMs: 15000,
        });
        console.log(
            `restored ${result.bytes} bytes via ${result.endpoint} (HTTP ${result.status}) into stack ${args.stack}`,
        );
        return 0;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main(process.argv.slice(2), process.env).then(
        (code) => process.exit(code),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : String(err));
            process.exit(1);
        },
    );
}
