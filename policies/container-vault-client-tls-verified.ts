import type { StackValidationPolicy } from "@pulumi/policy";
import {
    TYPES,
    arr,
    labelsOf,
    obj,
    roleOf,
    str,
    TLS_MODE_LABEL,
    truthy,
    vaultRole,
    vaultServers,
    type Props,
} from "./lib/common";

/** Where the Vault servers keep the stack's CA (components/topology.ts PATHS.caCert, written by NodeTls). */
const SERVER_CA_FILE = "/vault/tls/ca.pem";
/** Sidecars whose only job includes calling Vault's API. */
const VAULT_CLIENT_ROLES = ["snapshot-agent", "metrics-agent"];

const SKIP_ENV = /^(VAULT|BAO|VRSA_VAULT)_(SKIP_VERIFY|TLS_SKIP_VERIFY|INSECURE)=(.*)$/i;
/** `insecure_skip_verify: true`, `"insecure": true`, `tls_skip_verify = 1`, `"skipVerify": true` in any config file. */
const SKIP_IN_TEXT =
    /["']?(insecure_skip_verify|tls_skip_verify|skip_verify|skipVerify|insecure|tlsSkipVerify)["']?\s*[:=]\s*["']?(true|1|yes|on)\b/i;

function uploads(props: Props): { file: string; content: string }[] {
    return arr(props.uploads)
        .map(obj)
        .filter((u): u is Props => u !== undefined)
        .map((u) => ({
            file: str(u.file) ?? "",
            content:
                str(u.content) ??
                (str(u.contentBase64) ? Buffer.from(str(u.contentBase64)!, "base64").toString("utf8") : ""),
        }));
}

/** The JSON file a `vault agent -config=<file>` container receives, parsed; undefined when absent or not JSON. */
function vaultAgentConfig(props: Props): Props | undefined {
    const file = arr(props.command)
        .map(String)
        .find((a) => a.startsWith("-config="))
        ?.slice("-config=".length);
    const u = uploads(props).find((x) => x.file === file);
    try {
        return u ? obj(JSON.parse(u.content)) : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Every sidecar that calls Vault (the snapshot agent holds a token that reads the whole barrier as
 * a snapshot; the metrics agent holds Prometheus's AppRole secret ID) verifies Vault's certificate against the stack's CA: with verification off, or
 * without the CA, anyone on the path between sidecar and Vault (the Docker network, the host's
 * NIC) receives the AppRole secret id and every snapshot.
 *
 * One-field changes that would undo the same protection, each covered here: `VAULT_SKIP_VERIFY`
 * (or `VAULT_TLS_SKIP_VERIFY`, `BAO_SKIP_VERIFY`) set in a sidecar's environment;
 * `insecure`/`insecure_skip_verify`/`tls_skip_verify` true in any uploaded config (agent JSON,
 * Prometheus or blackbox YAML); a Vault node addressed over `http://` from a sidecar; the snapshot
 * agent's `VAULT_CACERT` (the metrics agent's `vault.ca_cert`) removed, pointed at a file it does not
 * receive, or at a file whose content is not the stack's CA.
 */
export const containerVaultClientTlsVerified: StackValidationPolicy = {
    name: "container-vault-client-tls-verified",
    description:
        "Sidecars that call Vault verify its certificate: no VAULT_SKIP_VERIFY or insecure/skip-verify option in their config, no http:// to a Vault node, and the snapshot agent's VAULT_CACERT (the metrics agent's vault.ca_cert) is an uploaded copy of the stack's CA.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["vault", "tls", "backup", "sidecar"],
    remediationSteps:
        "Let the program render the sidecars (components/backup/snapshotAgent.ts): VAULT_CACERT names the uploaded cluster CA; never set VAULT_SKIP_VERIFY or an insecure option.",
    validateStack: (args, report) => {
        const servers = vaultServers(args);
        if (servers.length === 0) return;
        // Upstream-proxy stacks (never prod) serve plain HTTP on purpose: nothing to verify.
        if (servers.every((s) => labelsOf(s.props).get(TLS_MODE_LABEL) === "upstream-proxy")) return;
        // The stack's CA: what NodeTls writes into each server (its caCertPem), or a server's own
        // upload of it (a declaration from before NodeTls).
        const stackCa = new Set([
            ...args.resources
                .filter((r) => r.type === TYPES.nodeTls)
                .map((r) => (str(r.props.caCertPem) ?? "").trim())
                .filter(Boolean),
            ...servers.flatMap((s) =>
                uploads(s.props)
                    .filter((u) => u.file === SERVER_CA_FILE)
                    .map((u) => u.content.trim()),
            ),
        ]);
        const vaultHosts = new Set<string>();
        for (const s of servers) {
            if (str(s.props.hostname)) vaultHosts.add(str(s.props.hostname)!);
            for (const n of arr(s.props.networksAdvanced))
                for (const a of arr(obj(n)?.aliases)) vaultHosts.add(String(a));
            for (const u of uploads(s.props).filter((x) => x.file.endsWith("server.json"))) {
                const m = /"api_addr"\s*:\s*"https?:\/\/([^:/"]+)/.exec(u.content);
                if (m) vaultHosts.add(m[1]);
            }
        }
        for (const c of args.resources.filter((r) => r.type === TYPES.container && vaultRole(r.props) === undefined)) {
            const role = roleOf(c.props) ?? "container";
            const say = (m: string) => report(`${role} ${c.name}: ${m}`, c.urn);
            const envs = arr(c.props.envs).map(String);
            for (const e of envs) {
                const m = SKIP_ENV.exec(e);
                if (m && truthy(m[3]))
                    say(`${e.split("=")[0]} turns off verification of Vault's certificate; remove it.`);
            }
            const texts = [
                ...uploads(c.props),
                {
                    file: "command",
                    content: [...arr(c.props.command), ...arr(c.props.entrypoints)].map(String).join(" "),
                },
            ];
            for (const u of texts) {
                if (SKIP_IN_TEXT.test(u.content))
                    say(
                        `${u.file} turns off certificate verification (${SKIP_IN_TEXT.exec(u.content)![0]}); remove it.`,
                    );
                for (const m of u.content.matchAll(/http:\/\/([a-z0-9.-]+)/gi))
                    if (vaultHosts.has(m[1]))
                        say(`${u.file} calls Vault node ${m[1]} over plain http://; use https:// with the stack's CA.`);
            }
            if (!VAULT_CLIENT_ROLES.includes(role) || stackCa.size === 0) continue;
            // The snapshot agent takes the CA from VAULT_CACERT; Vault Agent from its config's vault.ca_cert.
            const agent = role === "metrics-agent" ? vaultAgentConfig(c.props) : undefined;
            const key = agent ? "vault.ca_cert in the agent's config" : "VAULT_CACERT";
            const caFile = agent
                ? str(obj(agent.vault)?.ca_cert)
                : envs.find((e) => e.startsWith("VAULT_CACERT="))?.slice("VAULT_CACERT=".length);
            if (!caFile) {
                say(`${key} is not set, so the agent trusts the image's public CAs instead of the stack's CA; set it.`);
                continue;
            }
            const ca = uploads(c.props).find((u) => u.file === caFile);
            if (!ca) say(`${key} names ${caFile}, which the container does not receive; upload the stack's CA there.`);
            else if (!stackCa.has(ca.content.trim()))
                say(`${key} names ${caFile}, which is not the stack's CA (what the servers get as ${SERVER_CA_FILE}).`);
        }
    },
};
