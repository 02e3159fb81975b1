/**
 * Latency and error bookkeeping for the load test. Pure: no clock, no I/O.
 *
 * Percentiles use the nearest-rank method (no interpolation): the p-th percentile of n sorted
 * samples is the sample at 1-based rank ceil(p/100 × n), so every reported value is a latency
 * that was actually observed.
 */

export type OpKind = "read" | "write";

export interface LatencySummary {
    p50: number;
    p95: number;
    p99: number;
    max: number;
    mean: number;
}

/** The p-th percentile (0 < p ≤ 100) of samples sorted ascending, by nearest rank. */
export function percentile(sortedAsc: ArrayLike<number>, p: number): number {
    if (sortedAsc.length === 0) throw new Error("percentile of no samples");
    if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
    const rank = Math.ceil((p / 100) * sortedAsc.length);
    return sortedAsc[Math.min(rank, sortedAsc.length) - 1];
}

/** Milliseconds to three decimals (microseconds): enough for a latency, short in JSON. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** p50/p95/p99/max/mean of the samples in ms, or null when there are none. Input is not modified. */
export function summarizeLatencies(samples: readonly number[]): LatencySummary | null {
    if (samples.length === 0) return null;
    const sorted = Float64Array.from(samples).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
        p50: roundMs(percentile(sorted, 50)),
        p95: roundMs(percentile(sorted, 95)),
        p99: roundMs(percentile(sorted, 99)),
        max: roundMs(sorted[sorted.length - 1]),
        mean: roundMs(sum / sorted.length),
    };
}

export interface OpStats {
    /** Completed operations, failed ones included. */
    ops: number;
    errors: number;
    /** ops per second of the measured phase. */
    throughput: number;
    /** Over every completed operation of this kind, failed ones included; null when ops is 0. */
    latencyMs: LatencySummary | null;
    /** HTTP status ("403") or transport error code ("ECONNRESET", "ETIMEDOUT") → count. */
    errorsByStatus: Record<string, number>;
}

/** Collects one sample per completed operation. */
export class Recorder {
    private readonly samples: Record<OpKind, number[]> = { read: [], write: [] };
    private readonly failures: Record<OpKind, Map<string, number>> = { read: new Map(), write: new Map() };
    private count = 0;
    private errorCount = 0;

    /** `error` is the status or transport code of a failed operation, undefined on success. */
    record(kind: OpKind, latencyMs: number, error?: string): void {
        this.samples[kind].push(latencyMs);
        this.count++;
        if (error !== undefined) {
            this.errorCount++;
            const m = this.failures[kind];
            m.set(error, (m.get(error) ?? 0) + 1);
        }
    }

    get ops(): number {
        return this.count;
    }

    get errors(): number {
        return this.errorCount;
    }

    opStats(kind: OpKind | "all", elapsedMs: number): OpStats {
        const kinds: OpKind[] = kind === "all" ? ["read", "write"] : [kind];
        const samples = kinds.flatMap((k) => this.samples[k]);
        const errorsByStatus: Record<string, number> = {};
        let errors = 0;
        for (const k of kinds)
            for (const [status, n] of this.failures[k]) {
                errorsByStatus[status] = (errorsByStatus[status] ?? 0) + n;
                errors += n;
            }
        return {
            ops: samples.length,
            errors,
            throughput: rate(samples.length, elapsedMs),
            latencyMs: summarizeLatencies(samples),
            errorsByStatus: sortedByKey(errorsByStatus),
        };
    }
}

/** Operations per second, to one decimal; 0 for an empty interval. */
export function rate(ops: number, elapsedMs: number): number {
    return elapsedMs > 0 ? Math.round((ops / elapsedMs) * 10000) / 10 : 0;
}

function sortedByKey(o: Record<string, number>): Record<string, number> {
    return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
