/**
 * The contract every area of stack configuration follows.
 *
 * An area (core cluster, unseal key, Vault settings, backups) declares its keys once, as a map from
 * key name to a field parser documented with {@link key}, and one `build` function that turns
 * their parsed values into a typed object, applying stack-dependent defaults and cross-key rules.
 * The values `build` receives are typed from the parsers (`z.output`), so reading a key the area
 * does not declare, or reading it as the wrong type, fails `tsc`. `loadConfig` runs the areas in
 * order and merges their results; nothing else applies a default. The key maps are also the source
 * of the README table and of the `config:` block in Pulumi.yaml (a test keeps all three in step).
 */
import { z } from "zod";

export const PROJECT = "bonito-vault";

export type Cloud = "aws" | "azure" | "gcp" | "local";
export const CLOUDS = ["aws", "azure", "gcp", "local"] as const;

/** What README and Pulumi.yaml say about a key. */
export interface KeyDoc {
    /** The Pulumi.yaml config type. */
    type: "string" | "integer" | "boolean" | "array";
    /** One sentence for README and Pulumi.yaml. */
    description: string;
    /** The default in words, exactly as README shows it ("3", "tls13 on prod, tls12 elsewhere", "required"). */
    default: string;
    /** Must be set with `pulumi config set --secret`. */
    secret?: boolean;
}

/** A key's parser: the raw string (undefined when unset) in, the key's value out; failures are issues. */
export type KeyField = z.ZodType<unknown, string | undefined>;

/** One key with its documentation, as `allKeys` lists it for docs, Pulumi.yaml and the unknown-key check. */
export interface KeySpec extends KeyDoc {
    schema: KeyField;
}

/** An area's keys: key name (without the `bonito-vault:` prefix) → documented parser. */
export type KeyShape = Record<string, KeyField>;

/** The documentation of every declared key, attached to its parser by {@link key}. */
const KEY_DOCS = z.registry<KeyDoc>();

/** Declare a key: its parser (fields.ts) and what README and Pulumi.yaml say about it. */
export function key<F extends KeyField>(field: F, doc: KeyDoc): F {
    KEY_DOCS.add(field, doc);
    return field;
}

/** The parsed values of an area's keys, typed from their parsers; keys without a default are optional. */
export type SectionValues<S extends KeyShape> = z.output<z.ZodObject<S>>;

/**
 * The values of an area's keys from the project's raw config (bonito-vault prefix removed).
 * Throws when a value does not parse: `loadConfig` reports every such problem and passes only the
 * keys that parsed.
 */
export function sectionValues<S extends KeyShape>(keys: S, raw: Record<string, string>): SectionValues<S> {
    return z.object(keys).parse(raw);
}

/** Every key of an area with its documentation, in declaration order. */
export function keySpecs(keys: KeyShape): Record<string, KeySpec> {
    const out: Record<string, KeySpec> = {};
    for (const [name, schema] of Object.entries(keys)) {
        const doc = KEY_DOCS.get(schema);
        if (doc === undefined) throw new Error(`config key ${name} is not declared with key()`);
        out[name] = { schema, ...doc };
    }
    return out;
}

export interface BuildContext {
    stack: string;
    /** True for the `prod` stack, whose rules are stricter. */
    prod: boolean;
    /** Report a problem with one key. `value` is echoed unless the key is secret. */
    issue(key: string, message: string): void;
    /** Accept the committed example operator keys (only under the mock runtime: tests, render). */
    allowExampleKeys?: boolean;
    /** The time (Unix seconds) at which recovery PGP keys must be usable; the clock when unset. */
    now?: number;
}

export interface ConfigSection<S extends KeyShape, T, Prior = unknown> {
    /** Keys without the `bonito-vault:` prefix, each declared with {@link key}. */
    keys: S;
    /** `values` holds every key of this section, parsed (absent where unset and without default). */
    build(values: SectionValues<S>, ctx: BuildContext, prior: Prior): T;
}

/** An area from its keys and its build; the build's values are typed from the keys. */
export function section<S extends KeyShape, T, Prior = unknown>(
    keys: S,
    build: (values: SectionValues<S>, ctx: BuildContext, prior: Prior) => T,
): ConfigSection<S, T, Prior> {
    return { keys, build };
}
