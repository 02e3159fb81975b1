/**
 * Limits that both the program's config (`components/config/`) and the policy pack judge, and the
 * one answer to "is this a production stack". Dependency-free so both packages import it: it lives
 * in the pack because the pack is published alone (its directory is what `pulumi policy publish`
 * uploads), while the program can already reach `policies/lib/` (the tests do).
 */

/** Stack names that get the prod rules unless the pack's `prodStacks` config says otherwise. */
export const DEFAULT_PROD_STACKS: readonly string[] = ["prod"];

export function isProductionStack(stack: string, prodStacks: readonly string[] = DEFAULT_PROD_STACKS): boolean {
    return prodStacks.includes(stack);
}

/** AWS KMS: days a scheduled key deletion waits (AWS accepts 7 to 30). */
export const AWS_KEY_DELETION_WINDOW = { min: 7, prodMin: 30, max: 30 } as const;

export function awsKeyDeletionWindowReason(prod: boolean): string {
    return prod
        ? `must be ${AWS_KEY_DELETION_WINDOW.prodMin} days on a production stack, so a mistaken deletion can be cancelled`
        : `must be at least ${AWS_KEY_DELETION_WINDOW.min} days (the AWS KMS minimum)`;
}

/** Days between rotations of the unseal key: a snapshot restores only with it, so at least quarterly. */
export const KEY_ROTATION_DAYS = { min: 1, max: 90 } as const;

export function keyRotationReason(): string {
    return `must be at most ${KEY_ROTATION_DAYS.max} days: the unseal key rotates at least quarterly`;
}

/** Days each snapshot stays write-once in the backup bucket (S3 Object Lock accepts up to 36500). */
export const BACKUP_RETENTION_DAYS = { min: 1, prodMin: 30, max: 36500 } as const;

export function backupRetentionReason(): string {
    return `must be at least ${BACKUP_RETENTION_DAYS.prodMin} days on a production stack (snapshots must outlive a month of undetected damage)`;
}

/** Lowest TLS version the listeners accept (TLS 1.0/1.1 are deprecated by RFC 8996). */
export const TLS_MIN_VERSION = { allowed: ["tls12", "tls13"], prod: "tls13" } as const;

export function tlsMinVersionReason(): string {
    return `must be ${TLS_MIN_VERSION.prod} on a production stack`;
}

/** Raft node counts: odd, so a majority survives a failure. */
export const NODES = { allowed: [1, 3, 5, 7], min: 1, prodMin: 3, max: 7 } as const;

export function nodesReason(): string {
    return `must be at least ${NODES.prodMin} on a production stack (one node has no failover)`;
}

/** How clients reach the cluster (components/config/entryPoint.ts). */
export const ENTRY_POINT_KINDS = ["loadBalancer", "dns", "none"] as const;

/**
 * The health check every entry point load balancer uses: 200 on the active node, on standbys
 * (which forward requests to the active node) and on performance standbys; 503 when sealed, 501
 * when not initialised, so only a node that can serve takes traffic.
 */
export const ENTRY_POINT_HEALTH_PATH = "/v1/sys/health?standbyok=true&perfstandbyok=true";

/** The only status the entry point's health check counts as healthy (the path above answers it). */
export const ENTRY_POINT_HEALTH_CODES = [200] as const;

/** The range that admits every IPv4 address. */
export const ANY_CLIENT_CIDR = "0.0.0.0/0";

export function entryPointProdReason(): string {
    return "must be loadBalancer on a production stack: clients need one name that keeps answering while any single node is down, and only a health-checked load balancer gives that";
}

/**
 * Days each shipped audit file stays write-once in the archive: on prod the seed's immutable store
 * must outlive an incident investigation, so at least a quarter.
 */
export const ARCHIVE_RETENTION_DAYS = { min: 1, max: 3650, prodMin: 90 } as const;

export function archiveRetentionReason(): string {
    return `must be at least ${ARCHIVE_RETENTION_DAYS.prodMin} days on a production stack: shipped audit logs are the compliance record and must outlive an incident investigation`;
}

/**
 * Certificate validity in hours: a leaf at most 398 days on prod (the public-CA limit, CA/B Forum
 * BR 6.3.2); a CA at most 10 years (a decades-long CA is never rotated).
 */
export const TLS_CERT_HOURS = { leafMin: 24, leafMax: 87600, leafProdMax: 398 * 24, caMin: 48, caMax: 87600 } as const;

export function tlsLeafValidityReason(): string {
    return `must be at most ${TLS_CERT_HOURS.leafProdMax} hours (398 days, the public-CA limit) on a production stack`;
}

/** Vault's max_lease_ttl in hours: the longest any lease or token may live (Vault's own default is 768h). */
export const MAX_LEASE_TTL_HOURS = { prodMax: 168 } as const;

export function maxLeaseTtlReason(): string {
    return `must be at most ${MAX_LEASE_TTL_HOURS.prodMax}h on a production stack: no lease or token outlives a week`;
}

/** Recovery keys on prod: several operators, none alone (Shamir needs a threshold of 2 or more). */
export const RECOVERY = { prodMinShares: 3, minThreshold: 2 } as const;

/**
 * Client allow-lists: a prefix shorter than these admits so much of the address space that it is
 * "any client" in disguise (an IPv4 /7 is 33 million addresses; an IPv6 prefix shorter than a
 * registry's /32 allocation spans providers).
 */
export const CLIENT_CIDR_MIN_PREFIX = { ipv4: 8, ipv6: 32 } as const;

/**
 * How long the migration AppRole's secret ID lives (`migrationWindow`, secret_id_ttl): long enough
 * for a first copy and the cutover, short enough that the write credential dies with the move.
 */
export const MIGRATION_WINDOW_SECONDS = { min: 3600, max: 7 * 24 * 3600 } as const;

export function migrationWindowReason(): string {
    return "must be from 1h to 168h: long enough for a first copy and the cutover, short enough that the write credential dies with the migration";
}
