/**
 * `npm run bench:profile`: Tollgate under the throughput load with `--cpu-prof`, then the
 * functions with the most self time, overall, by package, and in Tollgate's own code.
 *
 *   BENCH_PROFILE_SECONDS=20 npm run bench:profile
 *
 * The .cpuprofile is kept in bench/results/ for Chrome DevTools or speedscope.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOAD_CORE, startProvider, startTollgateCandidate } from './candidates.ts';
import { chatBody, sequentialLatency, streaming, throughput } from './measure.ts';
import { pinSelf, ROOT, stopAll } from './processes.ts';
import { TOLLGATE_DIR } from './tollgate-dir.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame comes from: Tollgate's source, a package, Node itself, or the VM. */
function origin(url: string): string {
  if (url === '') return '(vm)';
  if (url.startsWith('node:')) return 'node';
  if (url.startsWith('wasm://')) return 'wasm (PGlite)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.includes(`${TOLLGATE_DIR}/src/`)) return 'tollgate';
  return url;
}

function where(frame: ProfileNode['callFrame']): string {
  const home = `${TOLLGATE_DIR}/`;
  const file = frame.url.includes(home) ? frame.url.slice(frame.url.indexOf(home) + home.length) : frame.url;
  const short = file.replace(/^.*node_modules\//, '');
  return `${frame.functionName || '(anonymous)'} ${short}:${frame.lineNumber + 1}`;
}

export function selfTimes(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((sum, us) => sum + us, 0);
  const byFunction = new Map<string, { us: number; origin: string }>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const key = frame.url === '' ? frame.functionName : where(frame);
    const from = origin(frame.url);
    const entry = byFunction.get(key) ?? { us: 0, origin: from };
    entry.us += us;
    byFunction.set(key, entry);
    byOrigin.set(from, (byOrigin.get(from) ?? 0) + us);
  }
  const sorted = [...byFunction].sort((a, b) => b[1].us - a[1].us);
  return { total, sorted, byOrigin: [...byOrigin].sort((a, b) => b[1] - a[1]) };
}

/** Time with each of Tollgate's functions on the stack (self and everything it called), once per sample. */
export function inclusiveTimes(profile: CpuProfile): Array<[string, number]> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const stackKeys = new Map<number, string[]>();
  const keysOf = (id: number): string[] => {
    let keys = stackKeys.get(id);
    if (keys) return keys;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (origin(frame.url) === 'tollgate') seen.add(where(frame));
    }
    keys = [...seen];
    stackKeys.set(id, keys);
    return keys;
  };
  const totals = new Map<string, number>();
  for (const [i, id] of profile.samples.entries()) {
    for (const key of keysOf(id)) totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  pinSelf(LOAD_CORE);
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 15);
  const dir = path.join(tmpdir(), `tollgate-cpu-prof-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const provider = await startProvider();
  const tollgate = await startTollgateCandidate(provider, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const body = chatBody();
  await sequentialLatency(tollgate.target, body, 1000);
  await streaming(tollgate.target, 8, 4, 50);
  const result = await throughput(tollgate.target, body, 64, seconds);
  process.stdout.write(`profiled ${result.requests} requests (${result.rps.toFixed(0)} req/s at c=64)\n`);
  await tollgate.process.close();
  await provider.stop();
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('tollgate wrote no .cpuprofile (did it exit cleanly?)');
  const out = path.join(ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  const kept = path.join(out, `tollgate-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.cpuprofile`);
  renameSync(path.join(dir, file), kept);
  rmSync(dir, { recursive: true, force: true });

  const profile: CpuProfile = JSON.parse(readFileSync(kept, 'utf8'));
  const { total, sorted, byOrigin } = selfTimes(profile);
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
  const lines = [`\nself time by origin (${(total / 1e6).toFixed(1)} s sampled, idle included):`];
  for (const [name, us] of byOrigin.slice(0, 15)) lines.push(`  ${pct(us)}  ${name}`);
  lines.push('\ntop functions by self time:');
  for (const [name, entry] of sorted.slice(0, 30)) lines.push(`  ${pct(entry.us)}  ${name}  [${entry.origin}]`);
  lines.push("\ntop functions in Tollgate's own code (src/):");
  for (const [name, entry] of sorted.filter(([, e]) => e.origin === 'tollgate').slice(0, 15)) {
    lines.push(`  ${pct(entry.us)}  ${name}`);
  }
  lines.push("\nTollgate's functions by inclusive time (self and callees):");
  for (const [name, us] of inclusiveTimes(profile).slice(0, 20)) lines.push(`  ${pct(us)}  ${name}`);
  lines.push(`\nprofile: ${path.relative(ROOT, kept)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .then(() => process.exit(0))
  .catch(async (error) => {
    process.stderr.write(`profile failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    await stopAll();
    process.exit(1);
  });
