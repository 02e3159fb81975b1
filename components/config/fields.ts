/**
 * Field constructors for stack configuration.
 *
 * Pulumi hands every config value to the program as a string (objects and lists as JSON text), so
 * each field parses the raw string itself and reports failures as plain sentences. The messages
 * are read by a person at a terminal: they say what was expected, and `loadConfig` adds the key
 * and the value that was given.
 */
import { z } from "zod";

/** A value that must never be printed: `toString`/`toJSON`/inspect all say `[secret]`. */
export class Secret {
    readonly #value: string;
    constructor(value: string) {
        this.#value = value;
    }
    /** The plain value. Call it only where it is immediately wrapped in `pulumi.secret`. */
    reveal(): string {
        return this.#value;
    }
    toString(): string {
        return "[secret]";
    }
    toJSON(): string {
        return "[secret]";
    }
    [Symbol.for("nodejs.util.inspect.custom")](): string {
        return "[secret]";
    }
}

/** Marker recorded on fields whose value must be set with `pulumi config set --secret`. */
export const SECRET_FIELD = "bonito:secret";

type Raw = string | undefined;

/** A key's parser: the raw string (undefined when unset) in, a value of type `T` out. */
export type Field<T> = z.ZodType<T, Raw>;
/**
 * A key without a default: unset gives undefined, and the key is optional (`key?: T`) in the
 * section's values. `.optional()` returns undefined for an unset key without running the parser,
 * which is what every parser here does for an unset key that has no default.
 */
export type OptionalField<T> = z.ZodOptional<Field<T | undefined>>;

/** The field as its overloads type it: `T` when a default exists, optional otherwise. */
function settle<T>(field: Field<T | undefined>, def: T | undefined): Field<T | undefined> | OptionalField<T> {
    return def === undefined ? field.optional() : field;
}

/** A string from a fixed set. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number]): Field<T[number]>;
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): OptionalField<T[number]>;
export function oneOf<const T extends readonly [string, ...string[]]>(
    values: T,
    def?: T[number],
): Field<T[number] | undefined> | OptionalField<T[number]> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): T[number] | undefined => {
            const v = raw ?? def;
            if (v === undefined) return undefined;
            const allowed = values.find((x) => x === v);
            if (allowed === undefined) {
                ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}` });
                return z.NEVER;
            }
            return allowed;
        });
    return settle(field, def);
}

interface IntegerOptions {
    def?: number;
    allowed?: readonly number[];
    min?: number;
    max?: number;
}

/** A whole number, optionally restricted to a set or a range. */
export function integer(opts: IntegerOptions & { def: number }): Field<number>;
export function integer(opts: IntegerOptions): OptionalField<number>;
export function integer(opts: IntegerOptions): Field<number | undefined> | OptionalField<number> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): number | undefined => {
            if (raw === undefined) return opts.def;
            const allowedText = opts.allowed
                ? `one of ${opts.allowed.join(", ")}`
                : `a whole number from ${opts.min ?? "-∞"} to ${opts.max ?? "∞"}`;
            if (!/^-?\d+$/.test(raw.trim())) {
                ctx.addIssue({ code: "custom", message: `must be ${allowedText}` });
                return z.NEVER;
            }
            const n = Number(raw.trim());
            const bad =
                (opts.allowed && !opts.allowed.includes(n)) ||
                (opts.min !== undefined && n < opts.min) ||
                (opts.max !== undefined && n > opts.max);
            if (bad) {
                ctx.addIssue({ code: "custom", message: `must be ${allowedText}` });
                return z.NEVER;
            }
            return n;
        });
    return settle(field, opts.def);
}

/** `true` or `false` (Pulumi writes booleans as these strings). */
export function boolean(def: boolean): Field<boolean>;
export function boolean(): OptionalField<boolean>;
export function boolean(def?: boolean): Field<boolean | undefined> | OptionalField<boolean> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): boolean | undefined => {
            if (raw === undefined) return def;
            if (raw === "true") return true;
            if (raw === "false") return false;
            ctx.addIssue({ code: "custom", message: "must be true or false" });
            return z.NEVER;
        });
    return settle(field, def);
}

interface TextOptions {
    def?: string;
    pattern?: RegExp;
    describe?: string;
}

/** A free string, optionally matching a pattern described in words. */
export function text(opts: TextOptions & { def: string }): Field<string>;
export function text(opts?: TextOptions): OptionalField<string>;
export function text(opts: TextOptions = {}): Field<string | undefined> | OptionalField<string> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): string | undefined => {
            const v = raw ?? opts.def;
            if (v === undefined) return undefined;
            if (opts.pattern && !opts.pattern.test(v)) {
                ctx.addIssue({ code: "custom", message: `must be ${opts.describe ?? `match ${opts.pattern}`}` });
                return z.NEVER;
            }
            return v;
        });
    return settle(field, opts.def);
}

interface StringListOptions {
    def?: string[];
    item?: RegExp;
    describe?: string;
}

/**
 * A list of strings: a YAML list in the stack file (Pulumi hands it over as JSON text;
 * `pulumi config set --path 'key[0]' v` writes one). A scalar where a list belongs is the common
 * mistake (`key: 10.0.0.0/8` without brackets), so the message shows the list it probably meant.
 */
export function stringList(opts: StringListOptions & { def: string[] }): Field<string[]>;
export function stringList(opts?: StringListOptions): OptionalField<string[]>;
export function stringList(opts: StringListOptions = {}): Field<string[] | undefined> | OptionalField<string[]> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): string[] | undefined => {
            if (raw === undefined) return opts.def;
            let parsed: unknown;
            try {
                parsed = JSON.parse(raw);
            } catch {
                parsed = raw;
            }
            if (!Array.isArray(parsed)) {
                const items = String(parsed)
                    .replace(/^\s*\[(.*)\]\s*$/s, "$1")
                    .split(",")
                    .map((x) => x.trim())
                    .filter((x) => x !== "");
                ctx.addIssue({
                    code: "custom",
                    message: `must be a YAML list such as ${briefText(flowList(items.length > 0 ? items : ["item"]))} (square brackets, or one "- item" per line)`,
                });
                return z.NEVER;
            }
            if (parsed.some((x) => typeof x !== "string")) {
                ctx.addIssue({ code: "custom", message: "must be a YAML list of strings" });
                return z.NEVER;
            }
            const items: string[] = parsed;
            const item = opts.item;
            const bad = item ? items.filter((x) => !item.test(x)) : [];
            if (bad.length > 0) {
                ctx.addIssue({
                    code: "custom",
                    message: `every item must be ${opts.describe ?? `match ${opts.item}`}; not ${bad.map((b) => briefText(JSON.stringify(b))).join(", ")}`,
                });
                return z.NEVER;
            }
            return items;
        });
    return settle(field, opts.def);
}

/** Longest value text shown in a message; longer ones keep their head and tail and say their length. */
export const MAX_SHOWN = 80;

/** `text` cut to {@link MAX_SHOWN} characters: head…tail (N characters). */
export function briefText(text: string): string {
    if (text.length <= MAX_SHOWN) return text;
    return `${text.slice(0, 48)}…${text.slice(-16)} (${text.length} characters)`;
}

/** A list in YAML flow style, items unquoted where YAML reads them back as the same string. */
export function flowList(items: unknown[]): string {
    const item = (x: unknown) =>
        typeof x === "string" && /^[A-Za-z0-9_./][A-Za-z0-9_./:@+= -]*$/.test(x) && !/[ :]$/.test(x)
            ? x
            : JSON.stringify(x);
    return `[${items.map(item).join(", ")}]`;
}

/** A Vault duration such as `30s`, `15m`, `1h` or `720h`; returned unchanged, validated. */
export const DURATION = /^[1-9]\d*(s|m|h)$/;
export function duration(def: string): Field<string>;
export function duration(): OptionalField<string>;
export function duration(def?: string): Field<string> | OptionalField<string> {
    const opts = { pattern: DURATION, describe: "a duration such as 30s, 15m or 4h" };
    return def === undefined ? text(opts) : text({ ...opts, def });
}

/** Parse a duration string to seconds. */
export function durationSeconds(d: string): number {
    const m = DURATION.exec(d);
    if (!m) throw new Error(`not a duration: ${d}`);
    const n = Number(d.slice(0, -1));
    return n * (m[1] === "h" ? 3600 : m[1] === "m" ? 60 : 1);
}

/**
 * A value that must be stored encrypted (`pulumi config set --secret`). `loadConfig` refuses a
 * plain value for such a key; the parsed value is a {@link Secret}.
 */
export function secretText(opts: { pattern?: RegExp; describe?: string } = {}): OptionalField<Secret> {
    const field = z
        .string()
        .optional()
        .transform((raw: Raw, ctx): Secret | undefined => {
            if (raw === undefined) return undefined;
            if (opts.pattern && !opts.pattern.test(raw)) {
                // Never echo a secret's value: say only what shape was expected.
                ctx.addIssue({ code: "custom", message: `must be ${opts.describe ?? "well-formed"}` });
                return z.NEVER;
            }
            return new Secret(raw);
        })
        .meta({ [SECRET_FIELD]: true });
    return field.optional();
}

export const PEM_CERT = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;
export const PEM_KEY = /^-----BEGIN ((RSA|EC) )?PRIVATE KEY-----[\s\S]+-----END ((RSA|EC) )?PRIVATE KEY-----\s*$/;
