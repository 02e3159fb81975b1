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

/** The range that admits every IPv4 address. */
export const ANY_CLIENT_CIDR = "0.0.0.0/0";

export function entryPointProdReason(): string {
    return "must be loadBalancer on a production stack: clients need one name that keeps answering while any single node is down, and only a health-checked load balancer gives that";
}

/**
 * How long the migration AppRole's secret ID lives (`migrationWindow`, secret_id_ttl): long enough
 * for a first copy and the cutover, short enough that the write credential dies with the move.
 */
export const MIGRATION_WINDOW_SECONDS = { min: 3600, max: 7 * 24 * 3600 } as const;

export function migrationWindowReason(): string {
    return "must be from 1h to 168h: long enough for a first copy and the cutover, short enough that the write credential dies with the migration";
}
