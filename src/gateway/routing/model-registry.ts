import { asc } from 'drizzle-orm';
import { coalescedReload } from '../../coord/coalesced-reload.ts';
import type { Invalidation } from '../../coord/invalidation.ts';
import type { Vault } from '../../crypto/vault.ts';
import type { Db } from '../../store/db.ts';
import { models, modelTargets, providerCredentials } from '../../store/schema.ts';
import type { ProviderAdapter } from '../providers/adapter.ts';
import { authMethod, providerAdapter } from '../providers/registry.ts';
import type { ResolvedCredential } from '../providers/types.ts';

/** USD per million tokens, per token class (see docs/metering.md). */
export interface Prices {
  input: number;
  /** Output, reasoning included. */
  output: number;
  /** Cache reads; null: the input price. */
  cachedInput: number | null;
  /** Cache writes with a 5-minute (or unspecified) life; null or absent: the input price. */
  cacheWriteInput?: number | null;
  /** Cache writes with a 1-hour life; null or absent: the 5-minute write price. */
  cacheWrite1hInput?: number | null;
}

export interface Target {
  id: string;
  credential: ResolvedCredential;
  provider: string;
  adapter: ProviderAdapter;
  upstreamModel: string;
  weight: number;
  /** Fallback order; equal positions share load by weight. */
  position: number;
  timeoutMs: number | null;
}

export interface PublishedModel {
  id: string;
  orgId: string;
  name: string;
  prices: Prices;
  /** Most output tokens one call can produce, when configured. */
  maxOutputTokens: number | null;
  /** Extra attempts per target on a retryable failure. */
  retries: number;
  createdAt: number;
  /** In fallback order. */
  targets: Target[];
}

/**
 * All published models with their targets and decrypted credentials, held in memory so the
 * data plane never asks the database. Reloaded whole when a model or credential changes:
 * they are few and change rarely, and a whole reload cannot leave a half-updated view.
 */
export class ModelRegistry {
  #byOrg = new Map<string, Map<string, PublishedModel>>();
  readonly #db: Db;
  readonly #vault: Vault;
  readonly #onError: (error: unknown) => void;
  /** Each credential as last decrypted, by id. */
  readonly #lastGood = new Map<string, { credential: ResolvedCredential; adapter: ProviderAdapter }>();

  constructor(db: Db, vault: Vault, invalidation: Invalidation, onError: (error: unknown) => void) {
    this.#db = db;
    this.#vault = vault;
    this.#onError = onError;
    invalidation.subscribe((change) => {
      if (change.kind === 'model' || change.kind === 'credential') return this.reload();
    });
  }

  find(orgId: string, name: string): PublishedModel | undefined {
    return this.#byOrg.get(orgId)?.get(name);
  }

  list(orgId: string): PublishedModel[] {
    return [...(this.#byOrg.get(orgId)?.values() ?? [])];
  }

  /** Reloads from the database; concurrent calls coalesce, and a call during a load loads again after. */
  readonly reload = coalescedReload(
    async () => {
      this.#byOrg = await this.#load();
    },
    (error) => this.#onError(error),
  );

  async #load(): Promise<Map<string, Map<string, PublishedModel>>> {
    const [modelRows, targetRows, credentialRows] = await Promise.all([
      this.#db.select().from(models),
      this.#db.select().from(modelTargets).orderBy(asc(modelTargets.position)),
      this.#db.select().from(providerCredentials),
    ]);
    const credentials = new Map<string, { credential: ResolvedCredential; adapter: ProviderAdapter }>();
    for (const row of credentialRows) {
      const adapter = providerAdapter(row.provider);
      if (!adapter || !authMethod(adapter.spec, row.authMethod)) continue;
      try {
        const secrets = this.#vault.decrypt<Record<string, string>>(row.secretCiphertext, row.id);
        credentials.set(row.id, {
          credential: {
            id: row.id,
            name: row.name,
            provider: row.provider,
            authMethod: row.authMethod,
            secrets,
            settings: row.settings,
          },
          adapter,
        });
        this.#lastGood.set(
          row.id,
          credentials.get(row.id) as { credential: ResolvedCredential; adapter: ProviderAdapter },
        );
      } catch (error) {
        // A secret this instance cannot open (e.g. re-wrapped under a new master key before this
        // instance restarted with it): keep serving with the last copy it could open.
        this.#onError(error);
        const previous = this.#lastGood.get(row.id);
        if (previous) credentials.set(row.id, previous);
      }
    }
    // Forget credentials that were deleted: no secret stays in memory longer than needed.
    const present = new Set(credentialRows.map((row) => row.id));
    for (const id of this.#lastGood.keys()) if (!present.has(id)) this.#lastGood.delete(id);
    const byId = new Map<string, PublishedModel>();
    const byOrg = new Map<string, Map<string, PublishedModel>>();
    for (const row of modelRows) {
      const model: PublishedModel = {
        id: row.id,
        orgId: row.orgId,
        name: row.name,
        prices: {
          input: row.inputPrice,
          output: row.outputPrice,
          cachedInput: row.cachedInputPrice,
          cacheWriteInput: row.cacheWriteInputPrice,
          cacheWrite1hInput: row.cacheWrite1hInputPrice,
        },
        maxOutputTokens: row.maxOutputTokens,
        retries: row.retries,
        createdAt: row.createdAt.getTime(),
        targets: [],
      };
      byId.set(row.id, model);
      const org = byOrg.get(row.orgId) ?? new Map<string, PublishedModel>();
      byOrg.set(row.orgId, org);
      org.set(row.name, model);
    }
    for (const row of targetRows) {
      const found = credentials.get(row.credentialId);
      const model = byId.get(row.modelId);
      if (!found || !model) continue;
      model.targets.push({
        id: row.id,
        credential: found.credential,
        provider: found.credential.provider,
        adapter: found.adapter,
        upstreamModel: row.upstreamModel,
        weight: row.weight,
        position: row.position,
        timeoutMs: row.timeoutMs,
      });
    }
    return byOrg;
  }
}
