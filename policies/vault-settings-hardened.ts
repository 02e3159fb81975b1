import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
    PROD_SCHEMA,
    TYPES,
    arr,
    isProdUrn,
    obj,
    seconds,
    serverConfigs,
    str,
    tcpListeners,
    vaultRole,
} from "./lib/common";
import { tlsDisabled } from "./lib/listener";
import { MAX_LEASE_TTL_HOURS, RECOVERY, maxLeaseTtlReason } from "./lib/limits";

export const MOUNT_TYPE = "vault:index/mount:Mount";
export const VAULT_INIT_TYPE = "pulumi-nodejs:dynamic/bonito:VaultInit";
/** Vault's max_lease_ttl when the config does not set it. */
const VAULT_DEFAULT_MAX_LEASE_TTL = 768 * 3600;

/**
 * Vault settings that decide whether a bad write, a lost operator or a leaked lease can be
 * recovered from:
 * - the backend's KV mount is version 2 (version history, undelete, check-and-set); KV v1 overwrites
 *   in place, so one bad write loses the secret;
 * - prod is initialised with at least 3 recovery shares, a threshold of at least 2, and the shares
 *   encrypted to operators' PGP keys (plain shares sit in Pulumi state);
 * - `max_lease_ttl` (server config, or a mount's `maxLeaseTtlSeconds`) at most a week on prod;
 * - `api_addr` and `cluster_addr` use https when the listeners serve TLS (clients redirected to, and
 *   nodes forwarding through, an http address would fail or leak).
 *
 * One-field changes that would undo the same protection, each covered here: the KV mount's
 * `options.version` "1" or removed, or its type `generic`; `recoveryPgpKeys` emptied,
 * `recoveryThreshold` 1, `recoveryShares` 1 or 2 on prod; `max_lease_ttl` "8760h", removed (Vault's
 * 768h) or a mount's `maxLeaseTtlSeconds` above a week on prod; `api_addr` or `cluster_addr`
 * switched to http://.
 */
export const vaultSettingsHardened: ResourceValidationPolicy = {
    name: "vault-settings-hardened",
    description:
        "The KV mount is version 2; prod is initialised with ≥ 3 recovery shares, a threshold ≥ 2 and operators' PGP keys; max_lease_ttl (server and mounts) ≤ 168h on prod; api_addr and cluster_addr are https while the listeners serve TLS.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["vault", "settings", "recovery"],
    configSchema: PROD_SCHEMA,
    remediationSteps:
        "Keep the program's KV v2 mount; on prod set recoveryShares ≥ 3, recoveryThreshold ≥ 2 and recoveryPgpKeys, maxLeaseTtl ≤ 168h; let the program derive api_addr/cluster_addr from the TLS mode.",
    validateResource: (args, report) => {
        const p = args.props;
        const prod = isProdUrn(args.urn, args);
        if (args.type === MOUNT_TYPE) {
            const type = str(p.type) ?? "";
            const version = String(obj(p.options)?.version ?? "");
            if (type === "generic" || type === "kv-v1" || (type === "kv" && version !== "2"))
                report(
                    `Mount ${str(p.path) ?? args.name} is KV version 1 (type ${type}${type === "kv" ? `, options.version ${version || "unset"}` : ""}): no version history, no recovery from a bad write; use type kv with options.version "2" (or kv-v2).`,
                );
            const max = Number(p.maxLeaseTtlSeconds ?? 0);
            if (prod && max > MAX_LEASE_TTL_HOURS.prodMax * 3600)
                report(
                    `Mount ${str(p.path) ?? args.name} has maxLeaseTtlSeconds ${max}; max_lease_ttl ${maxLeaseTtlReason()}.`,
                );
            return;
        }
        if (args.type === VAULT_INIT_TYPE) {
            if (!prod) return;
            const shares = Number(p.recoveryShares ?? 0);
            const threshold = Number(p.recoveryThreshold ?? 0);
            if (arr(p.recoveryPgpKeys).length === 0)
                report(
                    "Vault is initialised on prod without recoveryPgpKeys: the recovery shares would sit in Pulumi state in plain text; list the operators' PGP keys.",
                );
            if (threshold < RECOVERY.minThreshold)
                report(
                    `recoveryThreshold is ${threshold}: one share alone recovers the cluster; at least ${RECOVERY.minThreshold} on prod.`,
                );
            if (shares < RECOVERY.prodMinShares)
                report(
                    `recoveryShares is ${shares}; at least ${RECOVERY.prodMinShares} on prod, so no single operator holds recovery.`,
                );
            return;
        }
        if (args.type !== TYPES.container || vaultRole(p) !== "server") return;
        for (const cfg of serverConfigs(p, report)) {
            const c = cfg.json;
            if (prod) {
                const max = c.max_lease_ttl === undefined ? VAULT_DEFAULT_MAX_LEASE_TTL : seconds(c.max_lease_ttl);
                if (max === undefined || max > MAX_LEASE_TTL_HOURS.prodMax * 3600)
                    report(
                        `${cfg.file}: max_lease_ttl is ${c.max_lease_ttl === undefined ? "unset (Vault's 768h)" : JSON.stringify(c.max_lease_ttl)}; maxLeaseTtl ${maxLeaseTtlReason()}.`,
                    );
            }
            const tls = tcpListeners(c).some((l) => !tlsDisabled(l));
            if (!tls) continue;
            for (const k of ["api_addr", "cluster_addr"]) {
                const v = str(c[k]);
                if (v !== undefined && !v.toLowerCase().startsWith("https://"))
                    report(`${cfg.file}: ${k} is ${v} while the listeners serve TLS; use https://.`);
            }
        }
    },
};
