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

function parseJson(raw: string, ctx: z.RefinementCtx, what: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        ctx.addIssue({ code: "custom", message: `expected ${what} as JSON` });
        return z.NEVER;
    }
}

/** A string from a fixed set. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def?: T[number]) {
    return z
        .string()
        .optional()
        .transform((raw: Raw, ctx): T[number] | undefined => {
            const v = raw ?? def;
            if (v === undefined) return undefined;
            if (!(values as readonly string[]).includes(v)) {
                ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}` });
                return z.NEVER;
            }
            return v as T[number];
        });
}

/** A whole number, optionally restricted to a set or a range. */
export function integer(opts: { def?: number; allowed?: readonly number[]; min?: number; max?: number }) {
    return z
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
}

/** `true` or `false` (Pulumi writes booleans as these strings). */
export function boolean(def?: boolean) {
    return z
        .string()
        .optional()
        .transform((raw: Raw, ctx): boolean | undefined => {
            if (raw === undefined) return def;
            if (raw === "true") return true;
            if (raw === "false") return false;
            ctx.addIssue({ code: "custom", message: "must be true or false" });
            return z.NEVER;
        });
}

/** A free string, optionally matching a pattern described in words. */
export function text(opts: { def?: string; pattern?: RegExp; describe?: string } = {}) {
    return z
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
}

/** A list of strings given as a JSON array (`pulumi config set --path 'key[0]' v` writes one). */
export function stringList(opts: { def?: string[]; item?: RegExp; describe?: string } = {}) {
    return z
        .string()
        .optional()
        .transform((raw: Raw, ctx): string[] | undefined => {
            if (raw === undefined) return opts.def;
            const parsed = parseJson(raw, ctx, "a list of strings");
            if (parsed === z.NEVER) return z.NEVER;
            if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== "string")) {
                ctx.addIssue({ code: "custom", message: "must be a list of strings" });
                return z.NEVER;
            }
            const items = parsed as string[];
            const bad = opts.item ? items.filter((x) => !opts.item!.test(x)) : [];
            if (bad.length > 0) {
                ctx.addIssue({
                    code: "custom",
                    message: `every item must be ${opts.describe ?? `match ${opts.item}`}; not ${bad.map((b) => JSON.stringify(b)).join(", ")}`,
                });
                return z.NEVER;
            }
            return items;
        });
}

/** A Vault duration such as `30s`, `15m`, `1h` or `720h`; returned unchanged, validated. */
export const DURATION = /^[1-9]\d*(s|m|h)$/;
export function duration(def?: string) {
    return text({ def, pattern: DURATION, describe: "a duration such as 30s, 15m or 4h" });
}

/** Parse a duration string to seconds. */
export function durationSeconds(d: string): number {
    const m = DURATION.exec(d);
    if (!m) throw new Error(`not a duration: ${d}`);
    const n = Number(d.slice(0, -1));
    return n * ({ s: 1, m: 60, h: 3600 } as const)[m[1] as "s" | "m" | "h"];
}

/**
 * A value that must be stored encrypted (`pulumi config set --secret`). `loadConfig` refuses a
 * plain value for such a key; the parsed value is a {@link Secret}.
 */
export function secretText(opts: { pattern?: RegExp; describe?: string } = {}) {
    return z
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
}

export const PEM_CERT = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;
export const PEM_KEY = /^-----BEGIN ((RSA|EC) )?PRIVATE KEY-----[\s\S]+-----END ((RSA|EC) )?PRIVATE KEY-----\s*$/;
