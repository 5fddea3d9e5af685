/**
 * Where a benchmarked Tollgate keeps its data: by default a fresh PGlite data directory, or,
 * with BENCH_DATABASE_URL (a PostgreSQL server on which the user may CREATE DATABASE), a fresh
 * database on that server. Either way it is made for the run and removed after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { removeOnExit } from './processes.ts';

export interface BenchDatabase {
  kind: 'pglite' | 'postgres';
  /** Always set: PGlite's home, and with PostgreSQL a scratch directory Tollgate may use. */
  dataDir: string;
  /** Environment for `tollgate serve`. */
  env: Record<string, string>;
  /** Arguments for bench/seed-keys.ts. */
  seedArgs: string[];
  drop(): Promise<void>;
}

let made = 0;

export function databaseServer(): string | undefined {
  return process.env.BENCH_DATABASE_URL?.trim() || undefined;
}

export async function freshDatabase(): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-'));
  removeOnExit(dataDir);
  const removeDir = () => {
    rmSync(dataDir, { recursive: true, force: true });
    removeOnExit(dataDir, false);
  };
  const server = databaseServer();
  if (!server) {
    return {
      kind: 'pglite',
      dataDir,
      env: { TOLLGATE_DATA_DIR: dataDir },
      seedArgs: [`--data-dir=${dataDir}`],
      drop: async () => removeDir(),
    };
  }
  const name = `tollgate_bench_${process.pid}_${made++}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    dataDir,
    env: { TOLLGATE_DATA_DIR: dataDir, DATABASE_URL: url.href },
    seedArgs: [`--data-dir=${dataDir}`, `--database-url=${url.href}`],
    drop: async () => {
      removeDir();
      const sql = postgres(server, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
