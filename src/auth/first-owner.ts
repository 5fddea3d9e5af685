import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { Db } from '../store/db.ts';
import { memberships, settings, users } from '../store/schema.ts';
import { hashPassword } from './passwords.ts';
import { endSessions } from './sessions.ts';

const SETUP_KEY = 'setup_token_hash';
const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function hasOwner(db: Db, orgId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')))
    .limit(1);
  return row !== undefined;
}

export async function createOwner(
  db: Db,
  orgId: string,
  email: string,
  password: string,
  name?: string,
): Promise<string> {
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(users).where(eq(users.email, email)).limit(1);
    const user =
      existing ??
      (
        await tx
          .insert(users)
          .values({ email, name: name ?? null, passwordHash })
          .returning()
      )[0];
    if (!user) throw new Error('could not create the first owner');
    if (existing) {
      await tx.update(users).set({ passwordHash }).where(eq(users.id, existing.id));
      // A new password ends the sessions made with the old one.
      await endSessions(tx, existing.id);
    }
    await tx
      .insert(memberships)
      .values({ userId: user.id, orgId, role: 'owner' })
      .onConflictDoUpdate({ target: [memberships.userId, memberships.orgId], set: { role: 'owner' } });
    await tx.delete(settings).where(eq(settings.key, SETUP_KEY));
    return user.id;
  });
}

/**
 * The first owner: from TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD when set; otherwise a
 * one-time set-up token, returned so start-up can print the link (only its hash is kept).
 */
export async function ensureFirstOwner(db: Db, orgId: string, config: Config): Promise<string | undefined> {
  if (await hasOwner(db, orgId)) return undefined;
  if (config.adminEmail && config.adminPassword) {
    await createOwner(db, orgId, config.adminEmail, config.adminPassword);
    return undefined;
  }
  const token = randomBytes(24).toString('base64url');
  await db
    .insert(settings)
    .values({ key: SETUP_KEY, value: hash(token) })
    .onConflictDoUpdate({ target: settings.key, set: { value: hash(token), updatedAt: new Date() } });
  return token;
}

export async function setupTokenMatches(db: Db, token: string): Promise<boolean> {
  const [row] = await db.select().from(settings).where(eq(settings.key, SETUP_KEY)).limit(1);
  if (!row) return false;
  const expected = Buffer.from(row.value, 'hex');
  const actual = Buffer.from(hash(token), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
