/**
 * Turns raw samples into the figures the issue asks for: added latency against `direct`,
 * throughput ratios, streaming overhead, CPU per request, peak memory, and the targets.
 */
import type { LatencyResult, StreamResult, ThroughputResult } from './measure.ts';
import { round, type Summary, summarize } from './stats.ts';

/** What was collected for one candidate over all rounds. */
export interface Collected {
  name: string;
  latency: LatencyResult[];
  throughput: ThroughputResult[];
  streams: StreamResult[];
  prompts: Record<number, LatencyResult[]>;
  peakRssMb?: number;
  peakRssWithPromptsMb?: number;
  startRssMb?: number;
  firstStartPeakRssMb?: number;
}

export interface CandidateFigures {
  name: string;
  /** Microseconds, concurrency 1. */
  latency: Summary & { errors: number };
  addedP50Us: number;
  addedP99Us: number;
  throughput: { rps: number; p50Ms: number; p99Ms: number; requests: number; non2xx: number; errors: number };
  /** Per-round requests per second, to show the spread. */
  rpsRounds: number[];
  stream: {
    ttfc: Summary;
    gap: Summary;
    addedTtfcP50Us: number;
    addedGapMeanUs: number;
    addedGapP99Us: number;
    errors: number;
  };
  cpuUsPerRequest?: number;
  peakRssMb?: number;
  peakRssWithPromptsMb?: number;
  startRssMb?: number;
  firstStartPeakRssMb?: number;
  prompts: Array<{
    bytes: number;
    p50Us: number;
    p99Us: number;
    addedP50Us: number;
    addedP99Us: number;
    errors: number;
  }>;
}

export interface UsageCheck {
  maxQueueDepth: number;
  written: number;
  served: number;
  dropped: number;
  clientCompleted: number;
  ok: boolean;
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  met: boolean | null;
  by?: string;
}

function pooled<T>(results: T[], pick: (result: T) => number[]): number[] {
  return results.flatMap(pick);
}

export function figures(all: Collected[]): CandidateFigures[] {
  const direct = all.find((candidate) => candidate.name === 'direct');
  if (!direct) throw new Error('direct was not measured');
  const base = summarize(pooled(direct.latency, (r) => r.samples));
  const baseTtfc = summarize(pooled(direct.streams, (r) => r.ttfc));
  const baseGap = summarize(pooled(direct.streams, (r) => r.gaps));
  const basePrompt = (bytes: number) => summarize(pooled(direct.prompts[bytes] ?? [], (r) => r.samples));
  return all.map((candidate) => {
    const latency = summarize(pooled(candidate.latency, (r) => r.samples));
    const requests = candidate.throughput.reduce((sum, r) => sum + r.requests, 0);
    const seconds = candidate.throughput.reduce((sum, r) => sum + r.seconds, 0);
    const busy = summarize(pooled(candidate.throughput, (r) => r.samples));
    const cpu = candidate.throughput.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0);
    const ttfc = summarize(pooled(candidate.streams, (r) => r.ttfc));
    const gap = summarize(pooled(candidate.streams, (r) => r.gaps));
    return {
      name: candidate.name,
      latency: { ...latency, errors: candidate.latency.reduce((sum, r) => sum + r.errors, 0) },
      addedP50Us: round(latency.p50 - base.p50, 1),
      addedP99Us: round(latency.p99 - base.p99, 1),
      throughput: {
        rps: round(requests / seconds, 0),
        p50Ms: round(busy.p50 / 1000),
        p99Ms: round(busy.p99 / 1000),
        requests,
        non2xx: candidate.throughput.reduce((sum, r) => sum + r.non2xx, 0),
        errors: candidate.throughput.reduce((sum, r) => sum + r.errors, 0),
      },
      rpsRounds: candidate.throughput.map((r) => round(r.rps, 0)),
      stream: {
        ttfc,
        gap,
        addedTtfcP50Us: round(ttfc.p50 - baseTtfc.p50, 1),
        addedGapMeanUs: round(gap.mean - baseGap.mean, 1),
        addedGapP99Us: round(gap.p99 - baseGap.p99, 1),
        errors: candidate.streams.reduce((sum, r) => sum + r.errors, 0),
      },
      ...(candidate.name !== 'direct' && requests > 0 && { cpuUsPerRequest: round((cpu * 1000) / requests, 1) }),
      ...(candidate.peakRssMb !== undefined && { peakRssMb: round(candidate.peakRssMb, 1) }),
      ...(candidate.peakRssWithPromptsMb !== undefined && {
        peakRssWithPromptsMb: round(candidate.peakRssWithPromptsMb, 1),
      }),
      ...(candidate.startRssMb !== undefined && { startRssMb: round(candidate.startRssMb, 1) }),
      ...(candidate.firstStartPeakRssMb !== undefined && {
        firstStartPeakRssMb: round(candidate.firstStartPeakRssMb, 1),
      }),
      prompts: Object.entries(candidate.prompts).map(([size, results]) => {
        const summary = summarize(pooled(results, (r) => r.samples));
        const ref = basePrompt(Number(size));
        return {
          bytes: Number(size),
          p50Us: round(summary.p50, 1),
          p99Us: round(summary.p99, 1),
          addedP50Us: round(summary.p50 - ref.p50, 1),
          addedP99Us: round(summary.p99 - ref.p99, 1),
          errors: results.reduce((sum, r) => sum + r.errors, 0),
        };
      }),
    };
  });
}

const ms = (us: number) => `${(us / 1000).toFixed(3)} ms`;

/** The targets, each met or missed, with by how much when missed. */
export function targets(all: CandidateFigures[]): Target[] {
  const tollgate = all.find((c) => c.name === 'tollgate');
  const floor = all.find((c) => c.name === 'floor');
  const portkey = all.find((c) => c.name === 'portkey');
  if (!tollgate) return [];
  const upTo = (name: string, goal: string, value: number, limit: number, show: (v: number) => string): Target => ({
    name,
    goal,
    value: show(value),
    met: value <= limit,
    ...(value > limit && { by: `${show(value - limit)} over` }),
  });
  const list: Target[] = [
    upTo('added p50, concurrency 1', '<= 0.4 ms', tollgate.addedP50Us, 400, ms),
    upTo('added p99, concurrency 1', '<= 1.5 ms', tollgate.addedP99Us, 1500, ms),
  ];
  if (floor) {
    const ratio = tollgate.throughput.rps / floor.throughput.rps;
    list.push({
      name: 'throughput vs floor',
      goal: '>= 70 %',
      value: `${(ratio * 100).toFixed(0)} %`,
      met: ratio >= 0.7,
      ...(ratio < 0.7 && { by: `${((0.7 - ratio) * 100).toFixed(0)} points short` }),
    });
  }
  if (portkey) {
    const ratio = tollgate.throughput.rps / portkey.throughput.rps;
    list.push({
      name: 'throughput vs portkey',
      goal: '>= 4x',
      value: `${ratio.toFixed(2)}x`,
      met: ratio >= 4,
      ...(ratio < 4 && { by: `${(4 - ratio).toFixed(2)}x short` }),
    });
  } else {
    list.push({ name: 'throughput vs portkey', goal: '>= 4x', value: 'portkey not measured', met: null });
  }
  list.push(upTo('added time to first chunk (p50)', '<= 1 ms', tollgate.stream.addedTtfcP50Us, 1000, ms));
  // The main phases' peak; the scale curve and large prompts report theirs beside it.
  const mb = (v: number) => `${v.toFixed(1)} MB`;
  list.push(upTo('peak RSS under load', '<= 150 MB', tollgate.peakRssMb ?? Number.NaN, 150, mb));
  return list;
}
