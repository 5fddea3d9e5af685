import { createHash, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { type Role, SESSION_COOKIE, type Sessions } from '../auth/sessions.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { adminTokens } from '../store/schema.ts';

export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Who makes an admin call: an admin token (acts as an owner) or a signed-in user. */
export type Actor =
  | { kind: 'admin-token'; name: string; role: 'owner' }
  | { kind: 'user'; name: string; userId: string; role: Role };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates admin API calls: `Authorization: Bearer <admin token>` — the bootstrap token
 * from the environment (compared in constant time) or a hashed token from the database — or
 * the dashboard's session cookie, whose changes must also carry the session's CSRF token.
 */
export class AdminAuth {
  readonly #bootstrapHash: Buffer | undefined;
  readonly #db: Db;
  readonly #sessions: Sessions;
  readonly #known = new Map<string, Actor>();

  constructor(db: Db, bootstrapToken: string | undefined, sessions: Sessions) {
    this.#db = db;
    this.#sessions = sessions;
    this.#bootstrapHash = bootstrapToken ? Buffer.from(hashAdminToken(bootstrapToken), 'hex') : undefined;
  }

  async verify(request: FastifyRequest): Promise<Actor> {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
    if (token) return this.#byToken(token);
    const session = await this.#sessions.find(request.cookies?.[SESSION_COOKIE]);
    if (!session) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      const expected = Buffer.from(session.csrfToken);
      if (
        typeof sent !== 'string' ||
        sent.length !== expected.length ||
        !timingSafeEqual(Buffer.from(sent), expected)
      ) {
        throw new TollgateError('TG_ERR_CSRF');
      }
    }
    return { kind: 'user', name: session.email, userId: session.userId, role: session.role };
  }

  async #byToken(token: string): Promise<Actor> {
    const hash = hashAdminToken(token);
    if (this.#bootstrapHash && timingSafeEqual(this.#bootstrapHash, Buffer.from(hash, 'hex'))) {
      return { kind: 'admin-token', name: 'bootstrap', role: 'owner' };
    }
    const known = this.#known.get(hash);
    if (known) return known;
    const [row] = await this.#db.select().from(adminTokens).where(eq(adminTokens.tokenHash, hash)).limit(1);
    if (!row) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
    const actor: Actor = { kind: 'admin-token', name: row.name, role: 'owner' };
    this.#known.set(hash, actor);
    return actor;
  }
}

/** What members may do besides reading: their own keys. Viewers only read. */
const MEMBER_WRITES = [/^\/api\/v1\/keys$/, /^\/api\/v1\/keys\/[^/]+(\/(disable|enable|revoke|rotate))?$/];
/** What members may read: keys and usage (narrowed to their own), and what they need to make a key. */
const MEMBER_READS = [/^\/api\/v1\/(keys|usage|models|projects|providers)(\/|$)/, /^\/api\/v1\/users\/me$/];

/** Role checks by route; owners and admins may do everything in their organisation. */
export function authorize(actor: Actor, method: string, url: string): void {
  if (actor.role === 'owner' || actor.role === 'admin') return;
  const path = url.split('?')[0] ?? url;
  const reading = SAFE_METHODS.has(method);
  if (actor.role === 'viewer') {
    if (reading) return;
    throw new TollgateError('TG_ERR_FORBIDDEN', 'viewers can only read');
  }
  if (reading ? MEMBER_READS.some((rule) => rule.test(path)) : MEMBER_WRITES.some((rule) => rule.test(path))) return;
  throw new TollgateError('TG_ERR_FORBIDDEN', `members cannot ${reading ? 'see' : 'change'} ${path}`);
}

/** The user whose objects a member is limited to; undefined for roles that see everything. */
export function ownScope(actor: Actor | undefined): string | undefined {
  return actor?.kind === 'user' && actor.role === 'member' ? actor.userId : undefined;
}
