import { createHash, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { adminTokens } from '../store/schema.ts';

export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Who made an admin call; written as `created_by` and, later, to the audit log. */
export interface Actor {
  kind: 'admin-token';
  name: string;
}

/**
 * Checks `Authorization: Bearer <admin token>` against the bootstrap token from the
 * environment (compared in constant time) or the hashed tokens in the database.
 */
export class AdminAuth {
  readonly #bootstrapHash: Buffer | undefined;
  readonly #db: Db;
  readonly #known = new Map<string, Actor>();

  constructor(db: Db, bootstrapToken: string | undefined) {
    this.#db = db;
    this.#bootstrapHash = bootstrapToken ? Buffer.from(hashAdminToken(bootstrapToken), 'hex') : undefined;
  }

  async verify(request: FastifyRequest): Promise<Actor> {
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
    if (!token) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
    const hash = hashAdminToken(token);
    if (this.#bootstrapHash && timingSafeEqual(this.#bootstrapHash, Buffer.from(hash, 'hex'))) {
      return { kind: 'admin-token', name: 'bootstrap' };
    }
    const known = this.#known.get(hash);
    if (known) return known;
    const [row] = await this.#db.select().from(adminTokens).where(eq(adminTokens.tokenHash, hash)).limit(1);
    if (!row) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
    const actor: Actor = { kind: 'admin-token', name: row.name };
    this.#known.set(hash, actor);
    return actor;
  }
}
