/**
 * Fills a Tollgate data directory with API keys before Tollgate starts on it (PGlite admits one
 * process at a time): `--real` keys with true hashes, whose plain text is written to `--out` as a
 * JSON array, and filler rows made in SQL with random-looking hashes, so that the database then
 * holds `--total` keys in all.
 *
 *   node --import tsx bench/seed-keys.ts --data-dir=DIR [--database-url=URL] --total=100000 --real=2000 --out=keys.json
 *
 * Run again on the same directory with a larger total, it adds only the missing rows.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { BENCH_RATE_LIMITS, BENCH_RULES, BENCH_SPEND_LIMIT } from './policy.ts';
import { TOLLGATE_DIR } from './tollgate-dir.ts';

const FILLER_BATCH = 100_000;

function arg(name: string): string {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!found) throw new Error(`--${name}= is required`);
  return found.slice(name.length + 3);
}

/** Tollgate's own modules, from the checkout under test (see tollgate-dir.ts). */
const load = (file: string) => import(pathToFileURL(path.join(TOLLGATE_DIR, 'src', file)).href);
const { ensureDefaultOrganization }: typeof import('../src/bootstrap.ts') = await load('bootstrap.ts');
const { normaliseRules }: typeof import('../src/control/policy-schemas.ts') = await load('control/policy-schemas.ts');
const { applySpendLimit }: typeof import('../src/control/spend-limits.ts') = await load('control/spend-limits.ts');
const { generateApiKey, hashApiKey, previewApiKey }: typeof import('../src/crypto/api-keys.ts') =
  await load('crypto/api-keys.ts');
const { openStore, rawRows }: typeof import('../src/store/db.ts') = await load('store/db.ts');
const { apiKeys, projects }: typeof import('../src/store/schema.ts') = await load('store/schema.ts');

const databaseUrl = process.argv.find((a) => a.startsWith('--database-url='))?.slice('--database-url='.length);
const store = await openStore({ dataDir: arg('data-dir'), databaseUrl });
try {
  const db = store.db;
  const orgId = await ensureDefaultOrganization(db);
  const [project] = await db.select().from(projects).where(eq(projects.orgId, orgId)).limit(1);
  if (!project) throw new Error('no default project');

  // Real keys carry the benchmark key's policy, so a cold lookup loads and checks as much.
  const policy = {
    rules: normaliseRules(BENCH_RULES),
    spendLimit: applySpendLimit({}, BENCH_SPEND_LIMIT, Date.now()),
    rateLimits: BENCH_RATE_LIMITS,
  };
  const real: string[] = [];
  for (let i = 0; i < Number(arg('real')); i++) real.push(generateApiKey());
  const [counted] = await rawRows<{ n: number }>(db, sql`select count(*)::int as n from api_keys`);
  const existing = counted?.n ?? 0;
  // Filler numbers continue after every row so far, so hashes never collide between runs.
  let next = existing + 1;
  const total = existing + Math.max(0, Number(arg('total')) - existing - real.length);
  while (next <= total) {
    const last = Math.min(total, next + FILLER_BATCH - 1);
    // md5 twice gives 64 hex characters, the shape of a SHA-256 key hash.
    await db.execute(sql`
      insert into api_keys (org_id, project_id, name, key_hash, preview, status)
      select ${orgId}, ${project.id}, 'filler-' || g, md5('a' || g) || md5('b' || g), 'tg_…' || lpad(g::text, 4, '0'), 'active'
      from generate_series(${next}::int, ${last}::int) as g`);
    next = last + 1;
  }

  for (let i = 0; i < real.length; i += 500) {
    await db.insert(apiKeys).values(
      real.slice(i, i + 500).map((key, j) => ({
        orgId,
        projectId: project.id,
        name: `bench-real-${existing + i + j}`,
        keyHash: hashApiKey(key),
        preview: previewApiKey(key),
        ...policy,
      })),
    );
  }
  await db.execute(sql`analyze api_keys`);
  writeFileSync(arg('out'), JSON.stringify(real));
} finally {
  await store.close();
}
