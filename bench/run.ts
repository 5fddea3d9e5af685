/**
 * `npm run bench`: direct, floor, Tollgate and Portkey measured in one run, round by round, so
 * that whatever the machine does meanwhile falls on all of them alike. See docs/benchmarks.md.
 *
 *   npm run bench            full run (~10 min), results in bench/results/<timestamp>.{json,md}
 *   npm run bench:smoke      short run for CI (< 2 min), no targets asserted
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import {
  directTarget,
  LOAD_CORE,
  probe,
  startFloor,
  startPortkey,
  startProvider,
  startTollgateCandidate,
} from './candidates.ts';
import { databaseServer } from './database.ts';
import { chatBody, chatBodyOfSize, sequentialLatency, streaming, type Target, throughput } from './measure.ts';
import { loadOptions, type Options } from './options.ts';
import { memoryMb, pinning, pinSelf, ROOT, stopAll } from './processes.ts';
import { markdown, type Report } from './report.ts';
import { type Collected, figures, targets, type UsageCheck } from './results.ts';
import { scaleCurve } from './scale.ts';
import { usageMetrics } from './tollgate.ts';
import { TOLLGATE_DIR } from './tollgate-dir.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** The commit of the checkout under test, `+dirty` when it has changes; `unknown` outside git. */
function tollgateVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', TOLLGATE_DIR, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src', 'bin') ? '+dirty' : ''}`;
  } catch {
    return process.env.BENCH_TOLLGATE_COMMIT ?? 'unknown';
  }
}

function cpuModel(): string {
  const match = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
  return match?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

/** Samples Tollgate's usage gauges every 200 ms while `work` runs; returns the deepest queue seen. */
async function watchQueue(url: string, work: () => Promise<void>): Promise<number> {
  let max = 0;
  const timer = setInterval(() => {
    usageMetrics(url)
      .then((m) => {
        max = Math.max(max, m.queueDepth);
      })
      .catch(() => {});
  }, 200);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return max;
}

async function usageSettled(url: string, clientCompleted: number, maxQueueDepth: number): Promise<UsageCheck> {
  let metrics = await usageMetrics(url);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (metrics.queueDepth > 0 || metrics.written < metrics.served)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    metrics = await usageMetrics(url);
  }
  return {
    maxQueueDepth,
    written: metrics.written,
    served: metrics.served,
    dropped: metrics.dropped,
    clientCompleted,
    ok: metrics.written === metrics.served && metrics.dropped === 0 && metrics.served >= clientCompleted,
  };
}

/** The 1-minute load average: above ~1 before a run, something else is using the cores. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** Stops the gateways (and drops Tollgate's database) even when the run fails half-way. */
const gateways = new Set<() => Promise<void>>();

async function main(options: Options): Promise<number> {
  pinSelf(LOAD_CORE);
  const loadBefore = loadAverage();
  if (loadBefore > 1) log(`warning: load average ${loadBefore} before the run; other work will blur the figures`);
  log(`tollgate bench (${options.mode}); ${pinning ? 'pinned with taskset' : 'taskset missing: unpinned'}`);
  const provider = await startProvider();
  const floor = await startFloor(provider);
  gateways.add(floor.process.stop);
  const tollgate = await startTollgateCandidate(provider);
  gateways.add(tollgate.process.close);
  const targetsList: Target[] = [directTarget(provider), floor.target, tollgate.target];
  const skipped: Record<string, string> = {};
  if (options.portkey) {
    const portkey = await startPortkey(provider);
    if ('skipped' in portkey) skipped.portkey = portkey.skipped;
    else {
      targetsList.push(portkey.target);
      gateways.add(portkey.process.stop);
    }
  } else {
    skipped.portkey = 'turned off (BENCH_PORTKEY=0 or --no-portkey)';
  }
  for (const target of targetsList) await probe(target);
  const collected: Collected[] = targetsList.map((t) => ({
    ...(t.name === 'tollgate' && { firstStartPeakRssMb: tollgate.firstStartPeakRssMb }),
    name: t.name,
    latency: [],
    throughput: [],
    streams: [],
    prompts: {},
    ...(t.pid && { startRssMb: memoryMb(t.pid).current }),
  }));
  const body = chatBody();
  let clientCompleted = 0;
  let maxQueueDepth = 0;
  const onTollgate = (target: Target, ok: number) => {
    if (target.name === 'tollgate') clientCompleted += ok;
  };

  log('warm-up');
  for (const target of targetsList) {
    onTollgate(target, (await sequentialLatency(target, body, 500)).samples.length);
    onTollgate(target, (await throughput(target, body, options.connections, options.warmupSeconds)).requests);
    onTollgate(target, (await streaming(target, 2, 2, options.streamChunks)).ttfc.length);
  }

  for (let round = 0; round < options.rounds; round++) {
    const order = rotate(targetsList, round);
    const slot = (target: Target) => collected[targetsList.indexOf(target)]!;
    for (const target of order) {
      const result = await sequentialLatency(target, body, options.latencyRequests);
      onTollgate(target, result.samples.length);
      slot(target).latency.push(result);
    }
    for (const target of order) {
      const run = () => throughput(target, body, options.connections, options.throughputSeconds);
      let result: Awaited<ReturnType<typeof run>> | undefined;
      if (target.name === 'tollgate') {
        const depth = await watchQueue(target.origin, async () => {
          result = await run();
        });
        maxQueueDepth = Math.max(maxQueueDepth, depth);
      } else {
        result = await run();
      }
      onTollgate(target, result!.requests);
      slot(target).throughput.push(result!);
    }
    for (const target of order) {
      const result = await streaming(target, options.streams, options.streamParallel, options.streamChunks);
      onTollgate(target, result.ttfc.length);
      slot(target).streams.push(result);
    }
    const line = order.map((t) => `${t.name} ${slot(t).throughput.at(-1)!.rps.toFixed(0)} req/s`).join(', ');
    log(`round ${round + 1}/${options.rounds}: ${line}`);
  }
  for (const [i, target] of targetsList.entries()) {
    if (target.pid) collected[i]!.peakRssMb = memoryMb(target.pid).peak;
  }

  log('large prompts');
  for (const { bytes, requests } of options.prompts) {
    const sized = chatBodyOfSize(bytes);
    for (const [i, target] of targetsList.entries()) {
      const result = await sequentialLatency(target, sized, requests);
      onTollgate(target, result.samples.length);
      collected[i]!.prompts[bytes] = [result];
    }
  }
  for (const [i, target] of targetsList.entries()) {
    if (target.pid) collected[i]!.peakRssWithPromptsMb = memoryMb(target.pid).peak;
  }
  const usage = await usageSettled(tollgate.target.origin, clientCompleted, maxQueueDepth);
  await Promise.all([...gateways].map((stop) => stop()));
  gateways.clear();

  log('scale curve');
  const scale = await scaleCurve(options, provider, log);
  await provider.stop();

  const candidates = figures(collected);
  const report: Report = {
    date: new Date().toISOString(),
    mode: options.mode,
    machine: {
      cpus: cpus().length,
      cpuModel: cpuModel(),
      node: process.version,
      pinned: pinning,
      loadBefore,
      loadAfter: loadAverage(),
    },
    candidates,
    targets: targets(candidates),
    usage,
    scale,
    skipped,
    database: databaseServer() ? 'postgres' : 'pglite',
    tollgate: tollgateVersion(),
    settings:
      `Settings: ${options.rounds} rounds; per candidate and round ${options.latencyRequests} requests at c=1, ` +
      `${options.throughputSeconds} s at c=${options.connections}, ${options.streams} streams ` +
      `(${options.streamParallel} at a time, ${options.streamChunks} chunks 10 ms apart).`,
  };
  const text = markdown(report);
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.date.replaceAll(':', '-').replace(/\..+$/, '');
  writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify({ options, ...report }, null, 2)}\n`);
  writeFileSync(path.join(dir, `${stamp}.md`), `${text}\n`);
  log(`\n${text}`);
  log(`results: bench/results/${stamp}.json`);
  const failedTarget = report.targets.some((t) => t.met === false);
  // Our own candidates must answer every request; Portkey's failures are its own and only reported.
  const ours = candidates.filter((c) => c.name !== 'portkey');
  const broken =
    !usage.ok ||
    ours.some((c) => c.latency.errors > 0 || c.throughput.non2xx > 0 || c.stream.errors > 0) ||
    scale.some((p) => p.cold.errors > 0 || p.warm.errors > 0);
  if (broken) log('some requests failed or usage records were lost: see the JSON');
  if (options.mode === 'smoke') return broken ? 1 : 0;
  return broken || (options.assertTargets && failedTarget) ? 1 : 0;
}

main(loadOptions())
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    for (const stop of gateways) await stop().catch(() => {});
    await stopAll();
    process.exit(1);
  });
