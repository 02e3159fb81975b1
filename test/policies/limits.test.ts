/**
 * The program's config and the policy pack agree on every limit both judge (policies/lib/limits.ts):
 * each key's allowed extremes, on each committed stack, declare resources the pack passes with zero
 * violations; one step past each extreme is refused, by config or by the pack, for the shared reason.
 *
 * Keys both judge: awsKeyDeletionWindowDays (aws-kms-key-rotation), keyRotationDays
 * (aws-kms-key-rotation, gcp-kms-cryptokey-rotation), backupRetentionDays (backup-bucket-worm),
 * tlsMinVersion (vault-listener-tls-min-version), nodes (vault-raft-node-count); issue 28:
 * auditArchiveRetentionDays (backup-bucket-lifecycle-retention), tlsValidityHours and
 * tlsCaValidityHours (tls-certificate-limits), maxLeaseTtl and recoveryThreshold
 * (vault-settings-hardened), entryPointClientCidrs (vault-entry-point-client-allow-list).
 * auditRetentionDays is judged by config only: no rule reads the audit rotation's retention.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POLICIES } from "../../policies/policies";
import {
    ARCHIVE_RETENTION_DAYS,
    AWS_KEY_DELETION_WINDOW,
    CLIENT_CIDR_MIN_PREFIX,
    MAX_LEASE_TTL_HOURS,
    RECOVERY,
    TLS_CERT_HOURS,
    archiveRetentionReason,
    maxLeaseTtlReason,
    tlsLeafValidityReason,
    BACKUP_RETENTION_DAYS,
    KEY_ROTATION_DAYS,
    NODES,
    TLS_MIN_VERSION,
    awsKeyDeletionWindowReason,
    backupRetentionReason,
    isProductionStack,
    keyRotationReason,
    nodesReason,
    tlsMinVersionReason,
} from "../../policies/lib/limits";
import { runPack } from "./harness";
import { declaredResources } from "./program";

type Case = { key: string; value: string; extra?: Record<string, string>; refused?: string };

const STACKS = ["local", "staging", "prod"] as const;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** prod keeps one Docker host per node: a larger cluster lists that many. */
function prodNodes(n: number): Record<string, string> {
    const ids = Array.from({ length: n }, (_, i) => i);
    return {
        nodeNames: JSON.stringify(ids.map((i) => `vault-${i}`)),
        dockerHosts: JSON.stringify(ids.map((i) => `ssh://deploy@vault-${i}.bonito.internal`)),
        nodeAddresses: JSON.stringify(ids.map((i) => `vault-${i}.bonito.internal`)),
        // The entry point load balancer targets every node.
        entryPointTargets: JSON.stringify(ids.map((i) => `10.0.${i + 1}.10`)),
    };
}

function cases(stack: string): Case[] {
    const prod = isProductionStack(stack);
    const aws = stack !== "local";
    const out: Case[] = [];
    // awsKeyDeletionWindowDays
    const dwMin = prod ? AWS_KEY_DELETION_WINDOW.prodMin : AWS_KEY_DELETION_WINDOW.min;
    out.push({ key: "awsKeyDeletionWindowDays", value: String(dwMin) });
    out.push({ key: "awsKeyDeletionWindowDays", value: String(AWS_KEY_DELETION_WINDOW.max) });
    if (aws)
        out.push({
            key: "awsKeyDeletionWindowDays",
            value: String(dwMin - 1),
            refused: awsKeyDeletionWindowReason(prod),
        });
    out.push({
        key: "awsKeyDeletionWindowDays",
        value: String(AWS_KEY_DELETION_WINDOW.max + 1),
        refused: `to ${AWS_KEY_DELETION_WINDOW.max} (got`,
    });
    // keyRotationDays (aws: exactly the maximum, the KMS minimum)
    if (!aws) out.push({ key: "keyRotationDays", value: String(KEY_ROTATION_DAYS.min) });
    out.push({ key: "keyRotationDays", value: String(KEY_ROTATION_DAYS.max) });
    out.push({ key: "keyRotationDays", value: String(KEY_ROTATION_DAYS.max + 1), refused: keyRotationReason() });
    // backupRetentionDays
    const brMin = prod ? BACKUP_RETENTION_DAYS.prodMin : BACKUP_RETENTION_DAYS.min;
    out.push({ key: "backupRetentionDays", value: String(brMin) });
    out.push({ key: "backupRetentionDays", value: String(BACKUP_RETENTION_DAYS.max) });
    out.push({
        key: "backupRetentionDays",
        value: String(brMin - 1),
        refused: prod ? backupRetentionReason() : `from ${BACKUP_RETENTION_DAYS.min} to ${BACKUP_RETENTION_DAYS.max}`,
    });
    out.push({
        key: "backupRetentionDays",
        value: String(BACKUP_RETENTION_DAYS.max + 1),
        refused: `from ${BACKUP_RETENTION_DAYS.min} to ${BACKUP_RETENTION_DAYS.max}`,
    });
    // tlsMinVersion
    const tlsAllowed = prod ? [TLS_MIN_VERSION.prod] : TLS_MIN_VERSION.allowed;
    for (const v of tlsAllowed) out.push({ key: "tlsMinVersion", value: v });
    out.push(
        prod
            ? { key: "tlsMinVersion", value: "tls12", refused: tlsMinVersionReason() }
            : { key: "tlsMinVersion", value: "tls11", refused: "tls12" },
    );
    // nodes
    const nMin = prod ? NODES.prodMin : NODES.min;
    const nodesCase = (n: number, refused?: string): Case => ({
        key: "nodes",
        value: String(n),
        extra: prod && n >= NODES.prodMin ? prodNodes(n) : {},
        refused,
    });
    out.push(nodesCase(nMin), nodesCase(NODES.max), nodesCase(NODES.max + 2, "one of"));
    out.push(prod ? nodesCase(NODES.min, nodesReason()) : nodesCase(0, "one of"));
    // auditArchiveRetentionDays (aws stacks ship to an S3 archive)
    if (aws) {
        const arMin = prod ? ARCHIVE_RETENTION_DAYS.prodMin : ARCHIVE_RETENTION_DAYS.min;
        out.push({ key: "auditArchiveRetentionDays", value: String(arMin) });
        if (prod)
            out.push({ key: "auditArchiveRetentionDays", value: String(arMin - 1), refused: archiveRetentionReason() });
    }
    // tlsValidityHours: 398 days on prod; below the CA's validity elsewhere
    const leafMax = prod ? TLS_CERT_HOURS.leafProdMax : TLS_CERT_HOURS.caMax - 1;
    out.push({ key: "tlsValidityHours", value: String(leafMax) });
    out.push(
        prod
            ? { key: "tlsValidityHours", value: String(leafMax + 1), refused: tlsLeafValidityReason() }
            : {
                  key: "tlsValidityHours",
                  value: String(TLS_CERT_HOURS.leafMax + 1),
                  refused: `to ${TLS_CERT_HOURS.leafMax} (got`,
              },
    );
    // tlsCaValidityHours: at most 10 years
    out.push({ key: "tlsCaValidityHours", value: String(TLS_CERT_HOURS.caMax) });
    out.push({
        key: "tlsCaValidityHours",
        value: String(TLS_CERT_HOURS.caMax + 1),
        refused: `to ${TLS_CERT_HOURS.caMax} (got`,
    });
    // maxLeaseTtl: a week on prod
    out.push({ key: "maxLeaseTtl", value: `${MAX_LEASE_TTL_HOURS.prodMax}h` });
    if (prod)
        out.push({ key: "maxLeaseTtl", value: `${MAX_LEASE_TTL_HOURS.prodMax + 1}h`, refused: maxLeaseTtlReason() });
    // recoveryThreshold: 2 or more whenever there is more than one share (prod has 5)
    if (prod) {
        out.push({ key: "recoveryThreshold", value: String(RECOVERY.minThreshold) });
        out.push({ key: "recoveryThreshold", value: String(RECOVERY.minThreshold - 1), refused: "must be at least 2" });
    }
    // entryPointClientCidrs: no prefix shorter than /8 (aws stacks have a load balancer)
    if (aws) {
        out.push({ key: "entryPointClientCidrs", value: `["10.0.0.0/${CLIENT_CIDR_MIN_PREFIX.ipv4}"]` });
        out.push({
            key: "entryPointClientCidrs",
            value: `["10.0.0.0/${CLIENT_CIDR_MIN_PREFIX.ipv4 - 1}"]`,
            refused: `shorter than /${CLIENT_CIDR_MIN_PREFIX.ipv4}`,
        });
        // The stack's statement of a public load balancer passes the pack on prod too.
        out.push({ key: "entryPointInternetFacing", value: "true" });
    }
    // AppRole tokens bound to client ranges pass config and the pack with the metrics token bound too;
    // alone they are refused (the pack: vault-tokenrole-metrics-least-privilege).
    out.push({
        key: "approleTokenBoundCidrs",
        value: '["10.20.0.0/16"]',
        extra: { monitoringTokenBoundCidrs: '["10.30.0.0/24"]' },
    });
    out.push({
        key: "approleTokenBoundCidrs",
        value: '["10.20.0.0/16"]',
        refused: "monitoringTokenBoundCidrs is empty",
    });
    out.push({
        key: "monitoringTokenBoundCidrs",
        value: `["10.0.0.0/${CLIENT_CIDR_MIN_PREFIX.ipv4 - 1}"]`,
        refused: `shorter than /${CLIENT_CIDR_MIN_PREFIX.ipv4}`,
    });
    return out;
}

/** The config's refusal, or the pack's violations, for a stack with one key overridden. */
async function judge(stack: string, c: Case): Promise<string[]> {
    let resources;
    try {
        resources = await declaredResources(stack, { [c.key]: c.value, ...c.extra });
    } catch (e) {
        return [`config: ${(e as Error).message}`];
    }
    const { violations } = await runPack(POLICIES, resources, stack);
    return [...violations.entries()].map(([p, ms]) => `${p}: ${ms.join(" | ")}`);
}

for (const stack of STACKS) {
    describe(`limits shared by config and pack on the committed ${stack} stack`, () => {
        for (const c of cases(stack)) {
            const what = `${c.key}=${c.value}`;
            if (c.refused === undefined)
                it(`${what} passes config and the pack`, async () => {
                    assert.deepEqual(await judge(stack, c), []);
                });
            else
                it(`${what} is refused: ${c.refused}`, async () => {
                    const out = await judge(stack, c);
                    assert.ok(
                        out.some((m) => new RegExp(escape(c.refused!)).test(m)),
                        `expected "${c.refused}" in:\n${out.join("\n")}`,
                    );
                });
        }
    });
}
