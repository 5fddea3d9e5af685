import { eq } from 'drizzle-orm';
import type { Invalidation } from '../../coord/invalidation.ts';
import type { Db } from '../../store/db.ts';
import { apiKeys } from '../../store/schema.ts';

/** What the data plane needs to know about a key; everything else stays in the database. */
export interface KeyEntry {
  id: string;
  name: string;
  orgId: string;
  projectId: string;
  ownerUserId: string | null;
  status: 'active' | 'disabled' | 'revoked';
  expiresAt: number | null;
}

/** How long an unknown hash is remembered as unknown, so a bad key cannot hammer the database. */
const NEGATIVE_TTL_MS = 1000;
const NEGATIVE_MAX = 10_000;

/**
 * Keys by hash, loaded on first use and dropped when the control plane says a key changed.
 * A known key costs one Map lookup; the database is only asked about keys not yet seen.
 */
export class KeyCache {
  readonly #byHash = new Map<string, KeyEntry>();
  readonly #hashById = new Map<string, string>();
  readonly #unknown = new Map<string, number>();
  readonly #loading = new Map<string, Promise<KeyEntry | undefined>>();
  readonly #db: Db;
  /** Bumped by every key change, so a load that raced a change is not cached stale. */
  #epoch = 0;

  constructor(db: Db, invalidation: Invalidation) {
    this.#db = db;
    invalidation.subscribe((change) => {
      if (change.kind === 'key') {
        this.#epoch++;
        this.#forget(change.ref);
      } else if (change.kind === 'key-created') this.#unknown.delete(change.ref);
    });
  }

  /** The key with this hash, or undefined if there is none. */
  get(hash: string): KeyEntry | undefined | Promise<KeyEntry | undefined> {
    const hit = this.#byHash.get(hash);
    if (hit) return hit;
    const unknownUntil = this.#unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > Date.now()) return undefined;
    let loading = this.#loading.get(hash);
    if (!loading) {
      loading = this.#load(hash).finally(() => this.#loading.delete(hash));
      this.#loading.set(hash, loading);
    }
    return loading;
  }

  get size(): number {
    return this.#byHash.size;
  }

  async #load(hash: string): Promise<KeyEntry | undefined> {
    const epoch = this.#epoch;
    const [row] = await this.#db.select().from(apiKeys).where(eq(apiKeys.keyHash, hash)).limit(1);
    if (!row) {
      if (this.#unknown.size >= NEGATIVE_MAX) this.#unknown.clear();
      this.#unknown.set(hash, Date.now() + NEGATIVE_TTL_MS);
      return undefined;
    }
    const entry: KeyEntry = {
      id: row.id,
      name: row.name,
      orgId: row.orgId,
      projectId: row.projectId,
      ownerUserId: row.ownerUserId,
      status: row.status,
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    };
    // A change arrived while the row was on its way: it may be stale, so answer with it once
    // but let the next request read it afresh.
    if (epoch !== this.#epoch) return entry;
    this.#byHash.set(hash, entry);
    this.#hashById.set(entry.id, hash);
    return entry;
  }

  #forget(id: string): void {
    const hash = this.#hashById.get(id);
    if (hash === undefined) return;
    this.#byHash.delete(hash);
    this.#hashById.delete(id);
  }
}
