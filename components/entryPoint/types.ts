/**
 * What every cloud's entry point returns: the address it answers on and what a person must still
 * do (rules on hosts this program does not own, a record in a zone it was not given).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EntryPointConfig } from "../config";

export interface EntryPointDelivery {
    /** The load balancer's own DNS name or IP address (what entryPointName must resolve to). */
    address: pulumi.Output<string>;
    /** The record created for entryPointName, or undefined when no zone was given. */
    record?: pulumi.Output<string>;
    pendingSteps: pulumi.Output<string[]>;
}

export type CreateEntryPoint = (
    name: string,
    parent: pulumi.Resource,
    args: { entryPoint: EntryPointConfig; baseName: string },
) => EntryPointDelivery;

/** `<baseName>-<suffix>` cut to `max` characters without a trailing hyphen (cloud name limits). */
export function resourceName(baseName: string, suffix: string, max: number): string {
    const room = max - suffix.length - 1;
    return `${baseName.slice(0, room).replace(/-+$/, "")}-${suffix}`;
}

/** The step every cloud shares when no DNS zone was given: point the name at the entry point. */
export function pointNameStep(ep: EntryPointConfig, address: string): string {
    return `Point ${ep.name} at ${address} in the DNS your clients use (no zone was configured, so no record was created).`;
}
