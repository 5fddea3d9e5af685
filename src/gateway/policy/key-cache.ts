import { eq, or } from 'drizzle-orm';
import type { Invalidation } from '../../coord/invalidation.ts';
import type { LimitedScope } from '../../coord/spend-ledger.ts';
import type { Db } from '../../store/db.ts';
import { type AccessRules, apiKeys, type RateLimits } from '../../store/schema.ts';
import { hasRules } from './access-rules.ts';
import type { SpendScopes } from './spend-scopes.ts';

/** What the data plane needs to know about a key; everything else stays in the database. */
export interface KeyEntry {
  id: string;
  name: string;
  orgId: string;
  projectId: string;
  ownerUserId: string | null;
  status: 'active' | 'disabled' | 'revoked';
  /** For the old secret of a rotated key: the end of its grace period. */
  expiresAt: number | null;
  /** Undefined when the key has no rules, so the common case costs nothing. */
  rules: AccessRules | undefined;
  rateLimits: RateLimits | undefined;
  /** The key's own spend limit, if it has one. */
  spendScope: LimitedScope | undefined;
}

/**
 * How long an unknown hash is remembered as unknown, so a bad key cannot hammer the database.
 * A key created on this instance clears its entry at once (`key-created`), one created on
 * another instance when its change arrives (pushed, a few milliseconds); the TTL bounds the rest.
 */
const NEGATIVE_TTL_MS = 5000;
/** Unknown hashes remembered at most; past it the oldest is dropped, not the whole set. */
const NEGATIVE_MAX = 50_000;
/** Keys held in memory at most; past it the longest-held is dropped (and reloaded if used again). */
const DEFAULT_CAPACITY = 200_000;

/**
 * Keys by hash, loaded on first use and dropped when the control plane says a key changed.
 * A known key costs one Map lookup; the database is only asked about keys not yet seen.
 */
export class KeyCache {
  readonly #byHash = new Map<string, KeyEntry>();
  readonly #hashesById = new Map<string, string[]>();
  readonly #unknown = new Map<string, number>();
  readonly #loading = new Map<string, Promise<KeyEntry | undefined>>();
  readonly #db: Db;
  /** Bumped by every key change, so a load that raced a change is not cached stale. */
  #epoch = 0;
  /** Bumped by every key creation, so a "no such key" that raced one is not remembered. */
  #createdEpoch = 0;
  #lookups = 0;

  readonly #scopes: SpendScopes;

  readonly #capacity: number;

  constructor(db: Db, invalidation: Invalidation, scopes: SpendScopes, capacity = DEFAULT_CAPACITY) {
    this.#db = db;
    this.#capacity = capacity;
    this.#scopes = scopes;
    invalidation.subscribe((change) => {
      if (change.kind === 'key') {
        this.#epoch++;
        this.#forget(change.ref);
      } else if (change.kind === 'key-created') {
        this.#createdEpoch++;
        this.#unknown.delete(change.ref);
        // A lookup already in flight may have missed the new row: the next caller asks afresh.
        this.#loading.delete(change.ref);
      }
    });
  }

  /** The key with this hash if it is held in memory; never asks the database. */
  known(hash: string): KeyEntry | undefined {
    return this.#byHash.get(hash);
  }

  /** The key with this hash, or undefined if there is none. */
  get(hash: string): KeyEntry | undefined | Promise<KeyEntry | undefined> {
    const hit = this.#byHash.get(hash);
    if (hit) return hit;
    const unknownUntil = this.#unknown.get(hash);
    if (unknownUntil !== undefined) {
      if (unknownUntil > Date.now()) return undefined;
      this.#unknown.delete(hash);
    }
    // Single flight: concurrent requests with the same key not yet in memory share one query.
    let loading = this.#loading.get(hash);
    if (!loading) {
      const started: Promise<KeyEntry | undefined> = this.#load(hash).finally(() => {
        if (this.#loading.get(hash) === started) this.#loading.delete(hash);
      });
      loading = started;
      this.#loading.set(hash, loading);
    }
    return loading;
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** Database lookups made so far (each a key not in memory). */
  get lookups(): number {
    return this.#lookups;
  }

  async #load(hash: string): Promise<KeyEntry | undefined> {
    const epoch = this.#epoch;
    const createdEpoch = this.#createdEpoch;
    this.#lookups++;
    const [row] = await this.#db
      .select()
      .from(apiKeys)
      .where(or(eq(apiKeys.keyHash, hash), eq(apiKeys.previousKeyHash, hash)))
      .limit(1);
    const previous = row?.keyHash !== hash;
    if (!row || (previous && !row.previousExpiresAt)) {
      if (createdEpoch === this.#createdEpoch) this.#rememberUnknown(hash);
      return undefined;
    }
    let expiresAt = row.expiresAt ? row.expiresAt.getTime() : null;
    if (previous && row.previousExpiresAt) {
      expiresAt = Math.min(expiresAt ?? Number.POSITIVE_INFINITY, row.previousExpiresAt.getTime());
    }
    const rateLimits = row.rateLimits;
    const entry: KeyEntry = {
      id: row.id,
      name: row.name,
      orgId: row.orgId,
      projectId: row.projectId,
      ownerUserId: row.ownerUserId,
      status: row.status,
      expiresAt,
      rules: hasRules(row.rules) ? row.rules : undefined,
      rateLimits:
        rateLimits.rpm != null || rateLimits.tpm != null || rateLimits.maxParallel != null ? rateLimits : undefined,
      spendScope: this.#scopes.make('key', row.id, `key "${row.name}"`, row.spendLimit),
    };
    // A change arrived while the row was on its way: it may be stale, so answer with it once
    // but let the next request read it afresh.
    if (epoch !== this.#epoch) return entry;
    if (this.#byHash.size >= this.#capacity) this.#evictOldest();
    this.#byHash.set(hash, entry);
    this.#hashesById.set(entry.id, [...(this.#hashesById.get(entry.id) ?? []), hash]);
    return entry;
  }

  #rememberUnknown(hash: string): void {
    if (this.#unknown.size >= NEGATIVE_MAX) {
      const oldest = this.#unknown.keys().next().value;
      if (oldest !== undefined) this.#unknown.delete(oldest);
    }
    this.#unknown.set(hash, Date.now() + NEGATIVE_TTL_MS);
  }

  /** Maps keep insertion order: the first entry is the one held longest. */
  #evictOldest(): void {
    const oldest = this.#byHash.entries().next().value;
    if (!oldest) return;
    const [hash, entry] = oldest;
    this.#byHash.delete(hash);
    const rest = (this.#hashesById.get(entry.id) ?? []).filter((other) => other !== hash);
    if (rest.length > 0) this.#hashesById.set(entry.id, rest);
    else this.#hashesById.delete(entry.id);
  }

  #forget(id: string): void {
    for (const hash of this.#hashesById.get(id) ?? []) this.#byHash.delete(hash);
    this.#hashesById.delete(id);
  }
}
