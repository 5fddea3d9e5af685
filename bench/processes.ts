/**
 * Child processes of a benchmark run: started pinned to a core, read through /proc, and all
 * stopped when the run ends, however it ends.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const children = new Set<ChildProcess>();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether processes are pinned with `taskset`; when it is missing everything runs unpinned. */
export const pinning = hasTaskset();

/** Pins this process (every thread) to one core, so the load generator stays off the gateway's. */
export function pinSelf(core: number): void {
  if (pinning) execFileSync('taskset', ['-a', '-c', '-p', String(core), String(process.pid)], { stdio: 'ignore' });
}

export interface Started {
  child: ChildProcess;
  /** The pid of the node process itself: `taskset` execs, so it is the child's own pid. */
  pid: number;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `node ...args` pinned to `core`. Resolves once a line of stdout matches `ready` (or at
 * once without it). Throws with the child's output if it exits first or takes too long.
 */
export async function startNode(
  name: string,
  core: number,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; ready?: RegExp; timeoutMs?: number } = {},
): Promise<Started & { match?: RegExpMatchArray }> {
  const command = pinning ? 'taskset' : process.execPath;
  const argv = pinning ? ['-c', String(core), process.execPath, ...args] : args;
  const child = spawn(command, argv, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let log = '';
  const append = (part: Buffer) => {
    log = (log + part.toString()).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const started: Started = { child, pid: child.pid!, output: () => log, stop };
  if (!options.ready) return started;
  const ready = options.ready;
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in time:\n${log}`)),
      options.timeoutMs ?? 30_000,
    );
    const check = () => {
      const found = log.match(ready);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${log}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  assertNodePid(name, started.pid);
  return { ...started, match };
}

/** Runs `node ...args` pinned to `core` to completion; throws with its output if it fails. */
export async function runNode(name: string, core: number, args: string[]): Promise<void> {
  const started = await startNode(name, core, args);
  const code = await new Promise<number | null>((resolve) => {
    if (started.child.exitCode !== null) resolve(started.child.exitCode);
    else started.child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${started.output()}`);
}

/** The pid must be node's own, not a wrapper's: /proc figures would otherwise be the wrong process. */
function assertNodePid(name: string, pid: number): void {
  const exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  if (!/node/.test(path.basename(exe))) throw new Error(`${name}: pid ${pid} is ${exe}, not node`);
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map((child) => (child.kill('SIGTERM') ? new Promise((r) => child.once('exit', r)) : 0)),
  );
}

const scratch = new Set<string>();

/** A directory to remove when this process exits, however it exits; `false` to forget it. */
export function removeOnExit(dir: string, remove = true): void {
  if (remove) scratch.add(dir);
  else scratch.delete(dir);
}

function killAllNow(): void {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}
process.once('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until GET url answers 200; gives up early once `alive()` says the server has gone. */
export async function waitForHttp(url: string, timeoutMs = 60_000, alive = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`the server for ${url} exited before it answered`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

/** CPU time (user + system) the process has used, in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Peak (VmHWM) and current (VmRSS) resident memory of the process, in MB. */
export function memoryMb(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, current: kb('VmRSS') / 1024 };
}
