#!/usr/bin/env node
// Builds the dashboard: type-checks web/ and bundles it into web/dist with Vite.
//
//   node scripts/build-web.mjs              build now
//   node scripts/build-web.mjs --if-stale   build only when web/dist is missing or older than
//                                           its sources (what `npm start` and the browser tests use)
//   node scripts/build-web.mjs --no-typecheck   skip `tsc -p web` (faster while iterating)
//
// Runs that overlap (two test files starting at once) take turns through a lock directory.
// Without the dev dependencies (a production install) it builds nothing and says so: Tollgate
// then serves a page explaining how to build the dashboard.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const web = path.join(root, 'web');
const dist = path.join(web, 'dist');
const lock = path.join(web, '.build-lock');
const args = new Set(process.argv.slice(2));

/** The newest modification time among the dashboard's sources. */
function newestSource() {
  let newest = 0;
  const visit = (entry) => {
    if (!existsSync(entry)) return;
    const stat = statSync(entry);
    if (stat.isDirectory()) {
      for (const child of readdirSync(entry)) visit(path.join(entry, child));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const entry of ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json']) visit(path.join(web, entry));
  return newest;
}

function isStale() {
  const index = path.join(dist, 'index.html');
  return !existsSync(index) || statSync(index).mtimeMs < newestSource();
}

async function takeLock() {
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock left by a build that died more than five minutes ago is forgotten.
      if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 10 * 60_000) throw new Error(`another dashboard build holds ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function main() {
  if (args.has('--if-stale') && !isStale()) return;
  let vite;
  try {
    vite = await import('vite');
  } catch {
    if (existsSync(path.join(dist, 'index.html'))) return;
    console.warn(
      'tollgate: the dashboard is not built and Vite is not installed (npm install, then npm run build:web)',
    );
    return;
  }
  await takeLock();
  try {
    // Another run may have built it while this one waited.
    if (args.has('--if-stale') && !isStale()) return;
    if (!args.has('--no-typecheck')) {
      const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
      const checked = spawnSync(tsc, ['-p', path.join(web, 'tsconfig.json')], { stdio: 'inherit' });
      if (checked.status !== 0) throw new Error('the dashboard does not type-check (tsc -p web)');
    }
    const started = Date.now();
    await vite.build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
    console.log(`tollgate: dashboard built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`tollgate: ${error.message}`);
  process.exit(1);
});
