/**
 * The Tollgate checkout under test: this one, or another given by BENCH_TOLLGATE_DIR (e.g. a
 * `git worktree` of main, to compare it with a branch using the same harness). That checkout
 * needs its own `npm install`, or a `node_modules` symlink to this one's.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const TOLLGATE_DIR = process.env.BENCH_TOLLGATE_DIR?.trim()
  ? path.resolve(process.env.BENCH_TOLLGATE_DIR.trim())
  : HERE;
