import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES, arr, obj, roleOf, str, vaultRole, type Props } from "./lib/common";
import { isCredentialFile } from "./lib/credentials";

/** Environment names that hold a static cloud credential (AWS keys, a GCP key, an Azure secret or key). */
const STATIC_CLOUD_CREDENTIAL =
    /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS_JSON|GOOGLE_OAUTH_ACCESS_TOKEN|CLOUDSDK_AUTH_ACCESS_TOKEN|GCP_SERVICE_ACCOUNT_KEY|AZURE_CLIENT_SECRET|ARM_CLIENT_SECRET|AZURE_CLIENT_CERTIFICATE_PASSWORD|AZURE_STORAGE_KEY|AZURE_STORAGE_ACCOUNT_KEY|AZURE_STORAGE_CONNECTION_STRING|AZURE_STORAGE_SAS_TOKEN|RCLONE_(CONFIG_[A-Z0-9_]+_|S3_|GCS_|AZUREBLOB_)(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SERVICE_ACCOUNT_CREDENTIALS|KEY|SAS_URL|CLIENT_SECRET|CONNECTION_STRING))$/i;
/** Values that are static cloud credentials whatever they are called. */
const STATIC_CLOUD_VALUE = [
    /\b(AKIA|ASIA)[0-9A-Z]{16}\b/,
    /"type"\s*:\s*"service_account"/,
    /"private_key"\s*:/,
    /AccountKey=[A-Za-z0-9+/=]{20,}/,
];

/** Restart policies that bring a service back after a crash or a host reboot. */
const SERVICE_RESTART = ["always", "unless-stopped"];
/** Containers that run once and exit (restart `no`). */
const ONE_SHOT_ROLES = ["audit-archive-init"];
/** Sidecars the design runs as an unprivileged user (components/audit, components/monitoring). */
const NON_ROOT_ROLES = [
    "audit-shipper",
    "audit-archive-init",
    "prometheus",
    "alertmanager",
    "blackbox",
    "mtail",
    "metrics-agent",
];

function isRoot(user: string | undefined): boolean {
    if (user === undefined || user.trim() === "") return true;
    const u = user.trim().split(":")[0];
    return u === "0" || u === "root";
}

/** Octal permissions of an upload; the Docker provider's default is 0644. */
function mode(u: Props): number {
    const raw = str(u.permissions) ?? (typeof u.permissions === "number" ? String(u.permissions) : "0644");
    return /^[0-7]{3,4}$/.test(raw) ? parseInt(raw, 8) : 0o777;
}

/**
 * How every container runs: no static cloud credential in its environment (an instance identity,
 * or a 0400 file for the writers' keys, is the design; a Pulumi secret is still a static key in
 * `docker inspect`); a service restarts after a crash or a reboot; its logs go somewhere; a sidecar
 * the design runs unprivileged does not run as root; key, token and credential files are readable
 * by their owner only.
 *
 * One-field changes that would undo the same protection, each covered here:
 * - `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `GOOGLE_CREDENTIALS` (a key JSON),
 *   `AZURE_CLIENT_SECRET`, a storage key, or rclone's `RCLONE_CONFIG_<remote>_SECRET_ACCESS_KEY`
 *   in `envs`, or an AKIA… key or a service-account JSON under any name;
 * - `restart` "no", "on-failure" or removed (Docker's default is no) on a server or sidecar;
 * - `logDriver` "none";
 * - a non-root sidecar's `user` removed (the image's root) or set to "0", "0:0" or "root";
 * - a private key, token or credential upload with `permissions` 0644, 0440, 0666, or none.
 */
export const containerRuntimeHardened: ResourceValidationPolicy = {
    name: "container-runtime-hardened",
    description:
        "Containers carry no static cloud credential in their environment, restart always/unless-stopped (one-shot steps excepted), keep a log driver (not none), run the non-root sidecars as a non-root user, and upload keys, tokens and credentials with mode 0600 or stricter.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["docker", "runtime", "credentials"],
    remediationSteps:
        "Let components/container.ts decide restart and logging; use an instance identity (or the writer's 0400 key file) instead of credential variables; keep the sidecars' user; upload secrets with permissions 0400.",
    validateResource: (args, report) => {
        if (args.type !== TYPES.container) return;
        const p = args.props;
        const role = roleOf(p) ?? (vaultRole(p) === "server" ? "vault-server" : "container");
        const say = (m: string) => report(`${role} ${args.name}: ${m}`);
        for (const e of arr(p.envs).map(String)) {
            const i = e.indexOf("=");
            const name = i > 0 ? e.slice(0, i) : e;
            const value = i > 0 ? e.slice(i + 1) : "";
            if (value === "") continue;
            if (STATIC_CLOUD_CREDENTIAL.test(name) || STATIC_CLOUD_VALUE.some((re) => re.test(value)))
                say(
                    `${name} holds a static cloud credential in the environment (visible to docker inspect, even as a Pulumi secret); use the host's instance identity or the writer's 0400 key file.`,
                );
        }
        const restart = str(p.restart) ?? "no";
        if (
            ONE_SHOT_ROLES.includes(role)
                ? !["no", ...SERVICE_RESTART].includes(restart)
                : !SERVICE_RESTART.includes(restart)
        )
            say(
                `restart is "${restart}"; a service must come back after a crash or a reboot (unless-stopped or always).`,
            );
        if ((str(p.logDriver) ?? "").toLowerCase() === "none")
            say('logDriver is "none": its logs are gone; keep json-file with rotation.');
        if (NON_ROOT_ROLES.includes(role) && isRoot(str(p.user)))
            say(
                `runs as ${str(p.user) ? `user ${str(p.user)}` : "the image's default user (root)"}; the design runs it unprivileged.`,
            );
        for (const u of arr(p.uploads).map(obj)) {
            if (!u) continue;
            const file = str(u.file) ?? "";
            const content = str(u.content);
            if (!isCredentialFile(file, content) && !/\/secrets\//.test(file)) continue;
            const m = mode(u);
            if ((m & 0o077) !== 0 || (m & 0o100) !== 0)
                say(
                    `${file} (a key, token or credential) is uploaded with mode ${(str(u.permissions) ?? "unset (0644)").toString()}; use 0400 or 0600.`,
                );
        }
    },
};
