/**
 * Scale curve: Tollgate's added latency and memory with more and more keys in its database.
 * One data directory grows from point to point; before each, Tollgate is stopped and the keys
 * are added (PGlite admits one process at a time), then Tollgate starts afresh, so every
 * point begins with an empty key cache.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { directTarget, GATEWAY_CORE, LOAD_CORE, type Provider } from './candidates.ts';
import { freshDatabase } from './database.ts';
import { chatBody, sequentialLatency, type Target } from './measure.ts';
import type { Options } from './options.ts';
import { memoryMb, runNode } from './processes.ts';
import { round, type Summary, summarize } from './stats.ts';
import { configureTollgate, startTollgate, usageMetrics } from './tollgate.ts';

export interface ScalePoint {
  keys: number;
  /** Seconds from spawning Tollgate to its first healthy answer. */
  startSeconds: number;
  direct: Summary;
  /** First use of each key: a cache miss and one database query. */
  cold: Summary & { added50: number; added99: number; errors: number };
  /** One key used over and over: a Map hit. */
  warm: Summary & { added50: number; added99: number; errors: number };
  rssMb: number;
  peakRssMb: number;
}

async function drained(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await usageMetrics(url)).queueDepth === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Let the last batch's transaction finish before timing anything else.
  await new Promise((resolve) => setTimeout(resolve, 700));
}

export async function scaleCurve(options: Options, provider: Provider, log: (line: string) => void) {
  const database = await freshDatabase();
  const direct = directTarget(provider);
  const body = chatBody();
  const points: ScalePoint[] = [];
  let benchKey: string | undefined;
  try {
    for (const keys of [...options.scaleKeys].sort((a, b) => a - b)) {
      const coldCount = Math.min(options.coldKeys, keys);
      const keysFile = path.join(database.dataDir, `keys-${keys}.json`);
      const seedStarted = performance.now();
      await runNode('seed keys', LOAD_CORE, [
        '--import',
        'tsx',
        'bench/seed-keys.ts',
        ...database.seedArgs,
        `--total=${keys}`,
        `--real=${coldCount}`,
        `--out=${keysFile}`,
      ]);
      log(`  scale ${keys} keys: seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
      const fresh: string[] = JSON.parse(readFileSync(keysFile, 'utf8'));

      const spawned = performance.now();
      const tollgate = await startTollgate(GATEWAY_CORE, { database });
      const startSeconds = (performance.now() - spawned) / 1000;
      try {
        benchKey ??= await configureTollgate(tollgate, provider.url);
        const target: Target = {
          name: 'tollgate',
          origin: tollgate.url,
          path: direct.path,
          headers: { authorization: `Bearer ${benchKey}` },
          pid: tollgate.pid,
        };
        await sequentialLatency(target, body, Math.min(500, options.warmRequests)); // warm-up (JIT)
        await drained(tollgate.url);
        const directBefore = await sequentialLatency(direct, body, Math.ceil(options.warmRequests / 2));
        const cold = await sequentialLatency(target, body, fresh.length, (i) => `Bearer ${fresh[i]}`);
        await drained(tollgate.url);
        const warm = await sequentialLatency(target, body, options.warmRequests);
        const directAfter = await sequentialLatency(direct, body, Math.ceil(options.warmRequests / 2));
        const memory = memoryMb(tollgate.pid);
        const base = summarize([...directBefore.samples, ...directAfter.samples]);
        const added = (result: typeof cold) => {
          const summary = summarize(result.samples);
          return {
            ...summary,
            added50: round(summary.p50 - base.p50, 1),
            added99: round(summary.p99 - base.p99, 1),
            errors: result.errors,
          };
        };
        const point: ScalePoint = {
          keys,
          startSeconds: round(startSeconds, 2),
          direct: base,
          cold: added(cold),
          warm: added(warm),
          rssMb: round(memory.current, 1),
          peakRssMb: round(memory.peak, 1),
        };
        points.push(point);
        log(
          `  scale ${keys} keys: cold +${point.cold.added50} µs p50, warm +${point.warm.added50} µs p50, RSS ${point.rssMb} MB`,
        );
      } finally {
        await tollgate.stop();
      }
    }
  } finally {
    await database.drop();
  }
  return points;
}
