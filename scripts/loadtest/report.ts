/** Human-readable progress and summary lines, and the redaction every line passes through. */
import type { LatencySummary, OpStats } from "./stats";
import { cleanupLine, type LoadSummary, type Progress } from "./run";

/**
 * Replaces every registered secret with "[redacted]". The load test registers the secret ID and
 * each token Vault issues, and sends all output (progress, summary, errors, JSON) through it.
 */
export class Redactor {
    private readonly secrets = new Set<string>();

    add(secret: string): void {
        // A value this short would blank out ordinary text; Vault's ids and tokens are far longer.
        if (secret.length >= 8) this.secrets.add(secret);
    }

    redact(text: string): string {
        let out = text;
        for (const s of this.secrets) out = out.split(s).join("[redacted]");
        return out;
    }
}

export function formatProgress(p: Progress): string {
    return `[${(p.elapsedMs / 1000).toFixed(1).padStart(6)}s] ops ${String(p.ops).padStart(8)}  ops/s ${p.opsPerSec.toFixed(1).padStart(9)}  errors ${p.errors}`;
}

const ms = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(2)).padStart(9);

function row(name: string, s: OpStats): string {
    const l: Partial<LatencySummary> = s.latencyMs ?? {};
    return `  ${name.padEnd(6)}${String(s.ops).padStart(10)}${s.throughput.toFixed(1).padStart(11)}${String(s.errors).padStart(8)}${ms(l.p50)}${ms(l.p95)}${ms(l.p99)}${ms(l.max)}`;
}

export function statusList(byStatus: Record<string, number>): string {
    const entries = Object.entries(byStatus);
    return entries.length === 0 ? "none" : entries.map(([s, n]) => `${s} ×${n}`).join(", ");
}

export function formatSummary(s: LoadSummary): string {
    const c = s.config;
    const share = s.all.ops > 0 ? ((s.all.errors / s.all.ops) * 100).toFixed(2) : "0.00";
    const a = s.auth;
    return [
        `bonito-vault loadtest: ${s.addr}, mount ${c.mount}, run ${s.runId}${s.interrupted ? " (INTERRUPTED)" : ""}`,
        `  concurrency ${c.concurrency}, duration ${(c.durationMs / 1000).toFixed(1)}s, read ratio ${c.readRatio}, ${c.keys} keys`,
        `  ${s.all.ops} ops in ${(s.elapsedMs / 1000).toFixed(2)}s = ${s.all.throughput.toFixed(1)} ops/s, errors ${s.all.errors} (${share}%)`,
        "",
        `  op          ops      ops/s  errors   p50 ms   p95 ms   p99 ms   max ms`,
        row("read", s.read),
        row("write", s.write),
        row("all", s.all),
        "",
        `  errors by status: ${statusList(s.all.errorsByStatus)}`,
        `  auth: ${a.logins} login(s), ${a.renewals} renewal(s), ${a.renewalsFailed} renewal(s) refused or at max TTL (then a new login); token ${a.revoked ? "revoked" : "NOT revoked (it expires at its TTL)"}`,
        `  seed: ${s.seed.keys} keys in ${(s.seed.ms / 1000).toFixed(2)}s; ${cleanupLine(s.cleanup)}`,
    ].join("\n");
}
