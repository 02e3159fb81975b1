/**
 * Helpers shared by the policies: where a resource sits (stack, prod or not), which containers are
 * Vault, and the rendered server configuration read back from a container's uploads.
 *
 * The pack never re-derives what the program renders: it reads the JSON that is uploaded into the
 * container (`/vault/config/*.json`), exactly as Vault will read it.
 */
import type {
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { DEFAULT_PROD_STACKS, isProductionStack } from "./limits";

export const TYPES = {
    container: "docker:index/container:Container",
    volume: "docker:index/volume:Volume",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    stack: "pulumi:pulumi:Stack",
    /** The dynamic resource that writes each node's CA bundle, certificate and key into its container (components/tls/nodeTls.ts). */
    nodeTls: "pulumi-nodejs:dynamic/bonito:NodeTls",
} as const;

/** The label the program sets on every container it declares (`bonito.role`). */
export const ROLE_LABEL = "bonito.role";
/** Label set on Vault servers whose TLS the stack config says terminates at a trusted proxy. */
export const TLS_MODE_LABEL = "bonito.tls-mode";

/** Policy config shared by every rule that is stricter on prod. */
export const PROD_SCHEMA: PolicyConfigSchema = {
    properties: {
        prodStacks: {
            type: "array",
            items: { type: "string" },
            default: [...DEFAULT_PROD_STACKS],
            description: "Stack names that get the prod rules. The stack is read from each resource's URN.",
        },
    },
};

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → `<stack>`. */
export function stackOfUrn(urn: string): string {
    const head = urn.split("::")[0] ?? "";
    return head.startsWith("urn:pulumi:") ? head.slice("urn:pulumi:".length) : "";
}

export function prodStacks(args: Pick<ResourceValidationArgs, "getConfig">): string[] {
    const c = args.getConfig<{ prodStacks?: string[] }>();
    return Array.isArray(c.prodStacks) ? [...c.prodStacks] : [...DEFAULT_PROD_STACKS];
}

export function isProdUrn(urn: string, args: Pick<ResourceValidationArgs, "getConfig">): boolean {
    return isProductionStack(stackOfUrn(urn), prodStacks(args));
}

export function isProdStack(args: StackValidationArgs): boolean {
    const stack = args.resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== "");
    return stack !== undefined && isProductionStack(stack, prodStacks(args));
}

// ---------------------------------------------------------------------------------------------
// Plain-data access. Props arrive through the engine's unknown-checking proxy: touching an unknown
// value throws, which the engine turns into an advisory "can't run during preview". Read only what
// a rule needs.

export type Props = Record<string, unknown>;

export function arr(v: unknown): unknown[] {
    return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

export function obj(v: unknown): Props | undefined {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : undefined;
}

/**
 * Booleans as Vault and the providers parse them: `true`, a non-zero number, or a string Go's
 * strconv.ParseBool reads as true (`"true"`, `"1"`, `"t"`; `"yes"` for the providers' strings).
 */
export function truthy(v: unknown): boolean {
    if (typeof v === "number") return v !== 0;
    return v === true || (typeof v === "string" && ["true", "1", "t", "yes"].includes(v.trim().toLowerCase()));
}

/** An explicit off: `false`, `0`, or a string that parses as false. Unset is not off. */
export function explicitlyFalse(v: unknown): boolean {
    if (typeof v === "number") return v === 0;
    return v === false || (typeof v === "string" && ["false", "0", "f", "no"].includes(v.trim().toLowerCase()));
}

export function labelsOf(props: Props): Map<string, string> {
    const out = new Map<string, string>();
    for (const l of arr(props.labels)) {
        const o = obj(l);
        const k = str(o?.label);
        if (k !== undefined) out.set(k, str(o?.value) ?? "");
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Vault containers.

const VAULT_IMAGE_REPO = /(^|\/)(vault|openbao)([:@]|$)/;

/** The image's repository (`hashicorp/vault`), or undefined for a bare image id. */
export function imageRepo(image: string): string | undefined {
    if (/^sha256:[a-f0-9]{64}$/.test(image)) return undefined;
    const noDigest = image.split("@")[0];
    return noDigest.replace(/:[^/]*$/, "");
}

/**
 * Every `bonito.role` the program sets on a container: one per kind, set by the one builder every
 * container goes through (components/container.ts `ContainerRole`, which lists the same values).
 */
export const CONTAINER_ROLES = [
    "vault-server",
    "vault-unsealer",
    "snapshot-agent",
    "snapshot-uploader",
    "audit-shipper",
    "prometheus",
    "alertmanager",
    "blackbox",
    "mtail",
    "metrics-agent",
    "audit-archive-init",
] as const;

/** A container's `bonito.role` label, or undefined when it has none. */
export function roleOf(props: Props): string | undefined {
    return labelsOf(props).get(ROLE_LABEL);
}

/** Runs a Vault binary by its own account: `server …` command, vault/openbao image, or a Vault config upload. */
export function looksLikeVault(props: Props): boolean {
    const cmd = arr(props.command).map(String);
    const image = str(props.image) ?? "";
    return (
        cmd[0] === "server" || VAULT_IMAGE_REPO.test(imageRepo(image) ?? "") || serverConfigUploads(props).length > 0
    );
}

export type VaultRole = "server" | "unsealer" | undefined;

/**
 * Which Vault role a container plays: its `bonito.role` label (vault-server, vault-unsealer) says
 * so. Any other container is judged a Vault server when it looks like one ({@link looksLikeVault}):
 * a sidecar's label identifies it, but never exempts a container that runs Vault from the Vault
 * rules (container-role-labelled reports the mislabel). The one exception: a `metrics-agent` whose
 * command is `agent …` (the Vault Agent beside Prometheus).
 */
export function vaultRole(props: Props): VaultRole {
    const role = roleOf(props);
    if (role === "vault-server") return "server";
    if (role === "vault-unsealer") return "unsealer";
    // The metrics agent runs the Vault binary as `vault agent` (no listener, no storage): a sidecar,
    // judged by the sidecar rules, as long as it runs the agent and nothing else.
    if (role === "metrics-agent" && str(arr(props.command)[0]) === "agent") return undefined;
    return looksLikeVault(props) ? "server" : undefined;
}

export function isVaultContainer(props: Props): boolean {
    return vaultRole(props) !== undefined;
}

/** The Vault server config files a container receives: `-config=` targets and `/vault/config/*.json`. */
export function serverConfigUploads(props: Props): { file: string; content: string }[] {
    const cmd = arr(props.command).map(String);
    const configured = new Set(
        cmd
            .filter((a) => a.startsWith("-config=") || a.startsWith("--config="))
            .map((a) => a.slice(a.indexOf("=") + 1)),
    );
    const out: { file: string; content: string }[] = [];
    for (const u of arr(props.uploads)) {
        const o = obj(u);
        const file = str(o?.file);
        if (file === undefined) continue;
        const isConfig = configured.has(file) || /^\/vault\/config\/[^/]+\.(json|hcl)$/.test(file);
        if (!isConfig) continue;
        const content =
            str(o?.content) ??
            (str(o?.contentBase64) !== undefined
                ? Buffer.from(str(o?.contentBase64)!, "base64").toString("utf8")
                : undefined);
        if (content !== undefined) out.push({ file, content });
    }
    return out;
}

export interface ServerConfig {
    file: string;
    json: Props;
}

/**
 * The parsed server configs of a Vault container. A config that is not JSON is reported: the
 * program renders JSON (Vault reads `.json` files) so that policies can read it.
 */
export function serverConfigs(props: Props, report: ReportViolation): ServerConfig[] {
    const out: ServerConfig[] = [];
    for (const u of serverConfigUploads(props)) {
        try {
            const json = JSON.parse(u.content) as unknown;
            const o = obj(json);
            if (o) out.push({ file: u.file, json: o });
            else report(`${u.file} is not a JSON object; render the server config as JSON so it can be checked.`);
        } catch {
            report(
                `${u.file} is not JSON; render the server config as JSON (Vault reads .json files) so it can be checked.`,
            );
        }
    }
    return out;
}

/** Vault accepts `listener` as an object or a list of `{ tcp: {...} }`; return every tcp listener. */
export function tcpListeners(cfg: Props): Props[] {
    const raw = cfg.listener;
    const items = Array.isArray(raw) ? raw : raw !== undefined ? [raw] : [];
    const out: Props[] = [];
    for (const item of items) {
        const tcp = obj(item)?.tcp;
        for (const l of Array.isArray(tcp) ? tcp : [tcp]) {
            const o = obj(l);
            if (o) out.push(o);
        }
    }
    return out;
}

/** The single storage stanza: `{ type, settings }`. */
export function storageOf(cfg: Props): { type: string; settings: Props } | undefined {
    const s = obj(cfg.storage) ?? obj(cfg.backend);
    if (!s) return undefined;
    const [type] = Object.keys(s);
    return type === undefined ? undefined : { type, settings: obj(s[type]) ?? {} };
}

/** The seal stanzas (Vault allows more than one during seal migration). */
export function sealsOf(cfg: Props): { type: string; settings: Props }[] {
    const raw = cfg.seal;
    const items = Array.isArray(raw) ? raw : raw !== undefined ? [raw] : [];
    const out: { type: string; settings: Props }[] = [];
    for (const item of items) {
        const o = obj(item);
        if (!o) continue;
        for (const [type, settings] of Object.entries(o)) out.push({ type, settings: obj(settings) ?? {} });
    }
    return out;
}

/** Every Vault server container of a stack (for the stack policies). */
export function vaultServers(args: StackValidationArgs): PolicyResource[] {
    return args.resources.filter((r) => r.type === TYPES.container && vaultRole(r.props) === "server");
}

/** Durations as Vault and the providers accept them: seconds as a number or `"90s"`, `"1h"`, `"7776000s"`. */
export function seconds(v: unknown): number | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v !== "string") return undefined;
    const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(v.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    return n * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s" | "m" | "h" | "d"];
}
