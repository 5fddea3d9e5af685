import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * postgres.js 3.4.9 throws from a timer — killing the process — when a write is scheduled on a
 * connection that has just closed (porsager/postgres#1154, #1208). `npm install` runs
 * scripts/patch-postgres.mjs, which adds the guard; without it a PostgreSQL outage under load
 * killed Tollgate about one run in five of test/durability/db-outage.test.ts.
 */
describe('the PostgreSQL driver', () => {
  it('guards nextWrite against a closed connection in every build it ships', () => {
    // The package's main file is cjs/src/index.js.
    const root = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
    const files = ['src', 'cjs/src', 'cf/src']
      .map((flavour) => path.join(root, flavour, 'connection.js'))
      .filter((file) => existsSync(file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const nextWrite = source.slice(source.indexOf('function nextWrite('), source.indexOf('socket.write(chunk'));
      expect(nextWrite, `${file}: run node scripts/patch-postgres.mjs`).toMatch(/if \(!socket\)/);
    }
  });
});
