/**
 * The contract every area of stack configuration follows.
 *
 * An area (core cluster, unseal key, Vault settings, backups) owns a set of keys and one `build`
 * function that turns their parsed values into a typed object, applying stack-dependent defaults
 * and cross-key rules. `loadConfig` runs the areas in order and merges their results; nothing else
 * applies a default. The key table here is also the source of the README table and of the
 * `config:` block in Pulumi.yaml (a test keeps all three in step).
 */
import type { z } from "zod";

export const PROJECT = "bonito-vault";

export type Cloud = "aws" | "azure" | "gcp" | "local";
export const CLOUDS = ["aws", "azure", "gcp", "local"] as const;

export interface KeySpec {
    /** Parses the raw string (undefined when unset) into a value; failures are issues. */
    schema: z.ZodType<unknown, string | undefined>;
    /** The Pulumi.yaml config type. */
    type: "string" | "integer" | "boolean" | "array";
    /** One sentence for README and Pulumi.yaml. */
    description: string;
    /** The default in words, exactly as README shows it ("3", "tls13 on prod, tls12 elsewhere", "required"). */
    default: string;
    /** Must be set with `pulumi config set --secret`. */
    secret?: boolean;
}

export interface BuildContext {
    stack: string;
    /** True for the `prod` stack, whose rules are stricter. */
    prod: boolean;
    /** Report a problem with one key. `value` is echoed unless the key is secret. */
    issue(key: string, message: string): void;
    /** Accept the committed example operator keys (only under the mock runtime: tests, render). */
    allowExampleKeys?: boolean;
}

export interface ConfigSection<T, Prior = unknown> {
    /** Keys without the `bonito-vault:` prefix. */
    keys: Record<string, KeySpec>;
    /** `values` holds every key of this section, parsed (undefined where unset and without default). */
    build(values: Record<string, unknown>, ctx: BuildContext, prior: Prior): T;
}
