/**
 * `loadConfig`: the one place stack configuration is parsed, defaulted and validated.
 *
 * Pure: it takes the raw key/value map Pulumi hands the program and returns a typed object, or
 * throws a {@link ConfigError} listing every problem at once, before any resource is declared.
 */
import { RunError } from "@pulumi/pulumi/errors";
import { auditShippingSection, type AuditShippingConfig } from "./auditShipping";
import { backupSection, type BackupConfig } from "./backup";
import { consulSection, type ConsulConfig } from "./consul";
import { coreSection, type CoreConfig } from "./core";
import { entryPointSection, type EntryPointSection } from "./entryPoint";
import { settingsSection, type SettingsConfig } from "./settings";
import { monitoringSection, type MonitoringConfig } from "./monitoring";
import { promotionSection, type PromotionConfig } from "./promotion";
import {
    PROJECT,
    keySpecs,
    sectionValues,
    type BuildContext,
    type ConfigSection,
    type KeyShape,
    type KeySpec,
} from "./section";
import { briefText, flowList } from "./fields";
import { unsealSection, type UnsealConfig } from "./unseal";
import { isProductionStack } from "../../policies/lib/limits";

export * from "./fields";
export * from "./section";
export type { CoreConfig, Engine, StorageMode, TlsConfig, TlsMinVersion, TlsMode } from "./core";
export type { UnsealConfig } from "./unseal";
export type { ConsulConfig, ConsulMode, ConsulSettings } from "./consul";
export type { EntryPointConfig, EntryPointKind, EntryPointTarget } from "./entryPoint";
export type { SettingsConfig } from "./settings";
export type { BackupConfig } from "./backup";
export type { AuditShippingConfig } from "./auditShipping";
export type { PromotionConfig } from "./promotion";
export type { MonitoringConfig, MonitoringMode } from "./monitoring";

export type StackConfig = { stack: string; prod: boolean } & CoreConfig &
    ConsulConfig &
    UnsealConfig &
    EntryPointSection &
    SettingsConfig &
    BackupConfig &
    AuditShippingConfig &
    PromotionConfig &
    MonitoringConfig;

/** Every area's keys, in build order (the README table's order). */
const SECTION_KEYS: KeyShape[] = [
    coreSection.keys,
    consulSection.keys,
    unsealSection.keys,
    entryPointSection.keys,
    settingsSection.keys,
    backupSection.keys,
    auditShippingSection.keys,
    promotionSection.keys,
    monitoringSection.keys,
];

/** Every key of the project, for docs, Pulumi.yaml and the unknown-key check. */
export function allKeys(): Record<string, KeySpec> {
    const out: Record<string, KeySpec> = {};
    for (const keys of SECTION_KEYS) {
        for (const [k, spec] of Object.entries(keySpecs(keys))) {
            if (k in out) throw new Error(`config key ${k} is declared by two sections`);
            out[k] = spec;
        }
    }
    return out;
}

/**
 * Every problem of a stack config at once. A {@link RunError}: Pulumi's run handler prints only
 * the message of a RunError (anything else is printed with `util.inspect`, stack trace included).
 * The stack name is `stackName`: a field named `stack` would replace `Error.prototype.stack`, and
 * `util.inspect` would print it as `[prod] { problems: [...] }`.
 */
export class ConfigError extends RunError {
    constructor(
        readonly stackName: string,
        readonly problems: string[],
    ) {
        super(
            `Stack "${stackName}" has ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}; nothing was declared:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * @param stack the stack name (`prod` gets the strict rules)
 * @param raw the config map as Pulumi gives it: `bonito-vault:key` → string; other namespaces
 *   (provider settings such as `aws:region`) are ignored
 * @param secretKeys the full names of keys that were set with `--secret`
 * @param options.allowExampleKeys accept the committed example operator PGP keys (mock runtime only)
 * @param options.now the time (Unix seconds) at which recovery PGP keys must be valid; default now
 */
export function loadConfig(
    stack: string,
    raw: Record<string, string>,
    secretKeys: ReadonlySet<string> = new Set(),
    options: { allowExampleKeys?: boolean; now?: number } = {},
): StackConfig {
    const keys = allKeys();
    const problems: string[] = [];
    const shown = (key: string, value: string | undefined) =>
        keys[key]?.secret || value === undefined ? "" : ` (got ${showValue(value)})`;

    const own: Record<string, string> = {};
    for (const [full, value] of Object.entries(raw)) {
        const [ns, ...rest] = full.split(":");
        if (ns !== PROJECT) continue;
        const key = rest.join(":");
        if (!(key in keys)) {
            const hint = suggestKey(key, Object.keys(keys));
            problems.push(
                `${PROJECT}:${key} is not a key of this project${hint ? `; did you mean ${PROJECT}:${hint}?` : ""} (docs/configuration.md lists every key)`,
            );
            continue;
        }
        own[key] = value;
    }

    // Every key is parsed on its own. A key that fails is reported here and then treated as unset,
    // so the areas still build and report what is required and what contradicts what: the whole
    // list arrives in one run. Build problems about a failed key, or naming one, are dropped (they
    // would describe the stand-in, not what the user wrote).
    const failed = new Set<string>();
    for (const [key, spec] of Object.entries(keys)) {
        const value = own[key];
        if (spec.secret && value !== undefined && !secretKeys.has(`${PROJECT}:${key}`)) {
            problems.push(
                `${PROJECT}:${key} holds a secret but is stored in plain text; set it with \`pulumi config set --secret ${key}\``,
            );
        }
        const result = spec.schema.safeParse(value);
        if (!result.success) {
            failed.add(key);
            for (const i of result.error.issues) problems.push(`${PROJECT}:${key} ${i.message}${shown(key, value)}`);
        }
    }
    const usable = Object.fromEntries(Object.entries(own).filter(([k]) => !failed.has(k)));
    const mentionsFailed = (message: string) =>
        [...failed].some((k) => new RegExp(`(^|[^A-Za-z0-9])${k}([^A-Za-z0-9]|$)`).test(message));

    const ctx: BuildContext = {
        stack,
        prod: isProductionStack(stack),
        allowExampleKeys: options.allowExampleKeys ?? false,
        now: options.now,
        issue: (key, message) => {
            if (failed.has(key) || mentionsFailed(message)) return;
            problems.push(`${PROJECT}:${key} ${message}${shown(key, own[key])}`);
        },
    };
    // Each area sees the merged result of the areas before it, typed.
    const run = <S extends KeyShape, T, P>(section: ConfigSection<S, T, P>, prior: P): T =>
        section.build(sectionValues(section.keys, usable), ctx, prior);
    const core = run(coreSection, undefined);
    const consul = { ...core, ...run(consulSection, core) };
    const unseal = { ...consul, ...run(unsealSection, consul) };
    const entryPoint = { ...unseal, ...run(entryPointSection, unseal) };
    const settings = { ...entryPoint, ...run(settingsSection, entryPoint) };
    const backup = { ...settings, ...run(backupSection, settings) };
    const auditShipping = { ...backup, ...run(auditShippingSection, backup) };
    const promotion = { ...auditShipping, ...run(promotionSection, auditShipping) };
    const monitoring = { ...promotion, ...run(monitoringSection, promotion) };
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return { stack, prod: ctx.prod, ...monitoring };
}

/**
 * A raw config value as the user wrote it in YAML: a list (Pulumi hands lists over as JSON text)
 * in flow style `[a, b]`, a scalar quoted; either shortened by {@link briefText}.
 */
export function showValue(raw: string): string {
    let parsed: unknown;
    try {
        parsed = raw.trimStart().startsWith("[") ? JSON.parse(raw) : undefined;
    } catch {
        parsed = undefined;
    }
    if (Array.isArray(parsed)) return briefText(flowList(parsed));
    return briefText(JSON.stringify(raw));
}

/**
 * Names people reach for that mean one of ours (compared lower-case, without - and _). Edit distance
 * finds typos; this finds the words of other tools (Helm's `replicas`, Terraform's `node_count`).
 */
export const KEY_SYNONYMS: Readonly<Record<string, string>> = {
    nodecount: "nodes",
    numnodes: "nodes",
    replicas: "nodes",
    clustersize: "nodes",
    size: "nodes",
    vaultimage: "image",
    dockerimage: "image",
    version: "image",
    provider: "cloud",
    platform: "cloud",
    region: "awsRegion",
    tls: "tlsMode",
    shares: "recoveryShares",
    threshold: "recoveryThreshold",
    pgpkeys: "recoveryPgpKeys",
    loglevel: "logLevel",
    allowedcidrs: "entryPointClientCidrs",
    clientcidrs: "entryPointClientCidrs",
};

/** The key the user most likely meant: a known synonym, else the nearest key by edit distance. */
export function suggestKey(key: string, candidates: string[]): string | undefined {
    const synonym = KEY_SYNONYMS[key.toLowerCase().replace(/[-_]/g, "")];
    if (synonym !== undefined && candidates.includes(synonym)) return synonym;
    return closest(key, candidates);
}

function closest(key: string, candidates: string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = levenshtein(key.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}
