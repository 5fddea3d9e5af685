import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The committed migrations are what every database is built from; `src/store/schema.ts` is
 * what the code believes. Regenerating migrations from the schema must produce nothing new,
 * or a schema change was made without running `npm run db:generate`.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const migrations = path.join(root, 'src/store/migrations');
const scratch = mkdtempSync(path.join(tmpdir(), 'tollgate-migrations-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sqlFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.sql'));

describe('database migrations', () => {
  it('lists every committed migration in the journal, with its snapshot', () => {
    const journal = JSON.parse(readFileSync(path.join(migrations, 'meta/_journal.json'), 'utf8')) as {
      entries: { idx: number; tag: string }[];
    };
    expect(journal.entries.map((entry) => `${entry.tag}.sql`)).toEqual(sqlFiles(migrations).sort());
    const snapshots = readdirSync(path.join(migrations, 'meta')).filter((name) => name.endsWith('_snapshot.json'));
    expect(snapshots.sort()).toEqual(journal.entries.map((entry) => `${entry.tag.slice(0, 4)}_snapshot.json`));
  });

  it('are in step with src/store/schema.ts (regenerating them adds nothing)', async () => {
    const out = path.join(scratch, 'migrations');
    cpSync(migrations, out, { recursive: true });
    const before = sqlFiles(out);
    // drizzle-kit prefixes "./" to its output folder, so it must be given a relative path.
    const { stdout, stderr } = await run(path.join(root, 'node_modules/.bin/drizzle-kit'), ['generate'], {
      cwd: root,
      env: { ...process.env, DRIZZLE_OUT: path.relative(root, out) },
      timeout: 60_000,
    });
    const added = sqlFiles(out).filter((name) => !before.includes(name));
    const report = added.map((name) => `--- ${name}\n${readFileSync(path.join(out, name), 'utf8')}`).join('\n');
    expect(added, `schema.ts and the migrations differ; run \`npm run db:generate\` and commit:\n${report}`).toEqual(
      [],
    );
    // drizzle-kit exits 0 even when it fails, so insist on its all-clear.
    expect(`${stdout}\n${stderr}`).toContain('No schema changes');
  }, 90_000);
});
