import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { type Config, ConfigError, parseMasterKey } from './config.ts';
import { hashAdminToken } from './control/admin-auth.ts';
import type { Vault } from './crypto/vault.ts';
import type { Db } from './store/db.ts';
import { adminTokens, organizations, projects, settings } from './store/schema.ts';

/**
 * The master key: `TOLLGATE_MASTER_KEY`, or else a key file in the data directory, made on
 * first start with owner-only permissions.
 */
export function resolveMasterKey(config: Config): { key: Buffer; source: 'env' | 'file'; created: boolean } {
  if (config.masterKey) return { key: config.masterKey, source: 'env', created: false };
  const file = path.join(config.dataDir, 'master.key');
  if (existsSync(file)) {
    return { key: parseMasterKey(readFileSync(file, 'utf8'), file), source: 'file', created: false };
  }
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return { key: parseMasterKey(readFileSync(file, 'utf8'), file), source: 'file', created: true };
}

/** The organisation that admin tokens act in, created with a default project on first start. */
export async function ensureDefaultOrganization(db: Db): Promise<string> {
  const [existing] = await db.select().from(organizations).orderBy(asc(organizations.createdAt)).limit(1);
  if (existing) return existing.id;
  const [org] = await db
    .insert(organizations)
    .values({ name: 'Default organization', slug: 'default' })
    .onConflictDoNothing()
    .returning();
  const orgId = org?.id ?? (await db.select().from(organizations).limit(1))[0]?.id;
  if (!orgId) throw new Error('could not create the default organization');
  // The default project is on the enterprise plan: no key limit unless configured otherwise.
  await db.insert(projects).values({ orgId, name: 'default', plan: 'enterprise' }).onConflictDoNothing();
  return orgId;
}

/**
 * With no `TOLLGATE_ADMIN_TOKEN` and no admin token yet, makes one and returns it so start-up
 * can print it once; only its hash is kept.
 */
export async function ensureAdminToken(db: Db, config: Config): Promise<string | undefined> {
  if (config.adminToken) return undefined;
  const [existing] = await db.select({ id: adminTokens.id }).from(adminTokens).limit(1);
  if (existing) return undefined;
  const token = `tga_${randomBytes(32).toString('base64url')}`;
  await db.insert(adminTokens).values({ name: 'first-run', tokenHash: hashAdminToken(token) });
  return token;
}

/**
 * Every instance sharing a database must hold the same master key, or secrets written by one
 * cannot be read by another. The first start records the key's check value; a later start
 * with another key stops with a message instead of failing request by request.
 */
export async function verifyMasterKey(db: Db, vault: Vault, source: 'env' | 'file'): Promise<void> {
  const check = vault.checkValue();
  await db.insert(settings).values({ key: 'master_key_check', value: check }).onConflictDoNothing();
  const [row] = await db.select().from(settings).where(eq(settings.key, 'master_key_check'));
  if (row && row.value !== check) {
    throw new ConfigError(
      'TOLLGATE_MASTER_KEY',
      source === 'env'
        ? 'does not match the master key this database was set up with'
        : 'is not set, and the key file in the data directory does not match the master key this database was set up with; give every instance the same TOLLGATE_MASTER_KEY',
    );
  }
}
