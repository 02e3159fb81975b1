/** Listener facts shared by the TLS policies. */
import { str, truthy, type Props } from "./common";

/** Vault accepts `tls_disable` as a bool, `"true"`/`"1"` or 1. */
export function tlsDisabled(l: Props): boolean {
    return truthy(l.tls_disable);
}

export function listenerName(l: Props, i: number): string {
    return `listener ${i} (${str(l.address) ?? "default address"})`;
}

/** `tls10` → 10 … `tls13` → 13; Vault's default when unset is tls12. */
export function tlsRank(v: unknown): number | undefined {
    if (v === undefined) return 12;
    const m = /^tls1([0-3])$/.exec(String(v));
    return m ? 10 + Number(m[1]) : undefined;
}
