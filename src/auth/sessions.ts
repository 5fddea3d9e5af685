import { createHash, randomBytes } from 'node:crypto';
import { and, eq, lt, ne } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { memberships, sessions, users } from '../store/schema.ts';

export const SESSION_COOKIE = 'tg_session';
export const SESSION_TTL_MS = 7 * 86_400_000;

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface SessionUser {
  userId: string;
  orgId: string;
  email: string;
  name: string | null;
  role: Role;
  csrfToken: string;
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Dashboard sessions: a random token in an HttpOnly cookie, its hash in the database. */
export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly clock: () => number,
  ) {}

  async create(userId: string, orgId: string): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const expiresAt = new Date(this.clock() + SESSION_TTL_MS);
    await this.db.insert(sessions).values({ tokenHash: hash(token), userId, orgId, csrfToken, expiresAt });
    // Sign-in is rare: a good moment to forget sessions that have expired.
    await this.db.delete(sessions).where(lt(sessions.expiresAt, new Date(this.clock())));
    return { token, csrfToken, expiresAt };
  }

  async find(token: string | undefined): Promise<SessionUser | undefined> {
    if (!token) return undefined;
    const [row] = await this.db
      .select({
        userId: users.id,
        orgId: sessions.orgId,
        email: users.email,
        name: users.name,
        role: memberships.role,
        csrfToken: sessions.csrfToken,
        expiresAt: sessions.expiresAt,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .innerJoin(memberships, and(eq(memberships.userId, sessions.userId), eq(memberships.orgId, sessions.orgId)))
      .where(eq(sessions.tokenHash, hash(token)))
      .limit(1);
    if (!row || row.expiresAt.getTime() <= this.clock()) return undefined;
    const { expiresAt: _, ...user } = row;
    return user;
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token) await this.db.delete(sessions).where(eq(sessions.tokenHash, hash(token)));
  }

  /** Ends every session of a user, e.g. when they are removed or their password changes. */
  async destroyAllOf(userId: string): Promise<void> {
    await endSessions(this.db, userId);
  }
}

/**
 * Ends a user's sessions — in one organisation, or everywhere — except, optionally, the one
 * whose token is `except` (someone changing their own password stays signed in where they are).
 * Called when a password changes, a member is removed or re-added, or a role is lowered.
 */
export async function endSessions(
  db: Db,
  userId: string,
  options: { orgId?: string; except?: string | undefined } = {},
): Promise<void> {
  await db
    .delete(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        options.orgId ? eq(sessions.orgId, options.orgId) : undefined,
        options.except ? ne(sessions.tokenHash, hash(options.except)) : undefined,
      ),
    );
}
