import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

/**
 * The databases a database-backed suite runs against: always PGlite, and a real PostgreSQL
 * when `TEST_DATABASE_URL` names one (`.ci/run` sets it). Each call to `prepare` gives a
 * fresh, empty database.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  prepare(): Promise<{ dataDir: string; databaseUrl?: string }>;
}

export function tempDir(prefix = 'tollgate-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

const pglite: Backend = { name: 'pglite', prepare: async () => ({ dataDir: tempDir() }) };

function postgresBackend(adminUrl: string): Backend {
  return {
    name: 'postgres',
    async prepare() {
      const name = `tollgate_test_${randomBytes(6).toString('hex')}`;
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return { dataDir: tempDir(), databaseUrl: url.toString() };
    },
  };
}

export function backends(): Backend[] {
  const url = process.env.TEST_DATABASE_URL;
  return url ? [pglite, postgresBackend(url)] : [pglite];
}
