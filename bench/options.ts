/**
 * What one run does. `--smoke` (or BENCH_MODE=smoke) is the short run CI uses to keep the
 * harness alive; the default full run gives the published figures. Any figure can be changed
 * by an environment variable, e.g. BENCH_THROUGHPUT_SECONDS=20.
 */
export interface Options {
  mode: 'full' | 'smoke';
  /** Rounds of the main phases; each round visits every candidate in a rotated order. */
  rounds: number;
  warmupSeconds: number;
  /** Requests per candidate per round at concurrency 1. */
  latencyRequests: number;
  connections: number;
  throughputSeconds: number;
  /** Streams per candidate per round, `streamParallel` at a time. */
  streams: number;
  streamParallel: number;
  streamChunks: number;
  /** Request body sizes in bytes, with requests per candidate for each. */
  prompts: Array<{ bytes: number; requests: number }>;
  /** Keys in the database at each point of the scale curve. */
  scaleKeys: number[];
  /** Keys used once each (cold lookups) at each scale point; never more than the point holds. */
  coldKeys: number;
  /** Requests with one reused key (warm lookups) at each scale point. */
  warmRequests: number;
  portkey: boolean;
  /** Exit non-zero when a target is missed (off by default; never in smoke mode). */
  assertTargets: boolean;
}

function env(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function num(name: string, fallback: number): number {
  const value = env(name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number, got "${value}"`);
  return parsed;
}

function list(name: string, fallback: number[]): number[] {
  const value = env(name);
  return value === undefined ? fallback : value.split(',').map((part) => Number(part.trim()));
}

export function loadOptions(argv: string[] = process.argv.slice(2)): Options {
  const smoke = argv.includes('--smoke') || env('BENCH_MODE') === 'smoke';
  const pick = <T>(full: T, short: T) => (smoke ? short : full);
  const promptRequests = pick([1000, 300, 60], [40, 15, 5]);
  const sizes = list('BENCH_PROMPT_BYTES', [1024, 100 * 1024, 1024 * 1024]);
  return {
    mode: smoke ? 'smoke' : 'full',
    rounds: num('BENCH_ROUNDS', pick(3, 1)),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', pick(3, 1)),
    latencyRequests: num('BENCH_LATENCY_REQUESTS', pick(2000, 300)),
    connections: num('BENCH_CONNECTIONS', 64),
    throughputSeconds: num('BENCH_THROUGHPUT_SECONDS', pick(10, 2)),
    streams: num('BENCH_STREAMS', pick(12, 4)),
    streamParallel: num('BENCH_STREAM_PARALLEL', 4),
    streamChunks: 50,
    prompts: sizes.map((bytes, i) => ({ bytes, requests: promptRequests[i] ?? promptRequests.at(-1)! })),
    scaleKeys: list('BENCH_SCALE_KEYS', pick([1_000, 100_000, 1_000_000], [1_000])),
    coldKeys: num('BENCH_COLD_KEYS', pick(2000, 300)),
    warmRequests: num('BENCH_WARM_REQUESTS', pick(3000, 300)),
    portkey: env('BENCH_PORTKEY') !== '0' && !argv.includes('--no-portkey'),
    assertTargets: !smoke && (argv.includes('--assert') || env('BENCH_ASSERT') === '1'),
  };
}
