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

/**
 * Who may call an admin route, declared on the route itself (`config: { access }`) and checked
 * by the admin API plugin before the handler runs. Members reach only the routes that narrow
 * what they see to their own objects; viewers reach only routes that read.
 */
export const ACCESS = {
  /** Every role; the handler narrows a member to their own objects. */
  everyone: ['owner', 'admin', 'member', 'viewer'],
  /** Reading organisation-wide data that members do not see. */
  readers: ['owner', 'admin', 'viewer'],
  /** Changing keys: a member only their own (the handler narrows), viewers never. */
  keyHolders: ['owner', 'admin', 'member'],
  /** Everything else that changes state. */
  admins: ['owner', 'admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Access = (typeof ACCESS)[keyof typeof ACCESS];

/** Refuses an actor whose role the route does not admit. */
export function authorize(actor: Actor, access: readonly Role[], method: string, path: string): void {
  if (access.includes(actor.role)) return;
  if (actor.role === 'viewer') throw new TollgateError('TG_ERR_FORBIDDEN', 'viewers can only read');
  const reading = SAFE_METHODS.has(method);
  throw new TollgateError('TG_ERR_FORBIDDEN', `${actor.role}s cannot ${reading ? 'see' : 'change'} ${path}`);
}

/** The user whose objects a member is limited to; undefined for roles that see everything. */
export function ownScope(actor: Actor): string | undefined {
  return actor.kind === 'user' && actor.role === 'member' ? actor.userId : undefined;
}
