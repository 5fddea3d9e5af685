import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** A recurring spend window: `count` × `unit`, counted from `startedAt`. */
export interface RecurringLimit {
  usd: number;
  count: number;
  unit: 'hour' | 'day' | 'week' | 'month';
  /** ISO time the current configuration took effect; windows are counted from it. */
  startedAt: string;
}

/** Spend limits of a key, user, project or organisation; absent fields mean no limit. */
export interface SpendLimit {
  allTimeUsd?: number | null;
  recurring?: RecurringLimit | null;
}

/** IAM rules of a key. Deny wins over allow; empty or absent lists impose nothing. */
export interface AccessRules {
  allowModels?: string[];
  denyModels?: string[];
  allowProviders?: string[];
  denyProviders?: string[];
  /** Which price tiers may be used; e.g. ['free'] for "free models only". */
  allowPricing?: Array<'free' | 'paid'>;
  denyPricing?: Array<'free' | 'paid'>;
  /** USD per million tokens. */
  maxInputPrice?: number | null;
  maxOutputPrice?: number | null;
}

export interface RateLimits {
  rpm?: number | null;
  tpm?: number | null;
  maxParallel?: number | null;
}

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/**
 * What manages the row besides the admin API: 'tollgate.yaml' when a declarative file lists it
 * (see src/declarative/), so the next apply overwrites hand-made edits; null when made by hand.
 */
const managedBy = () => text('managed_by').$type<'tollgate.yaml'>();

export const roleEnum = pgEnum('role', ['owner', 'admin', 'member', 'viewer']);
export const keyStatusEnum = pgEnum('key_status', ['active', 'disabled', 'revoked']);

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  slug: text('slug').notNull().unique(),
  spendLimit: jsonb('spend_limit').$type<SpendLimit>().notNull().default({}),
  createdAt: created(),
});

export const projects = pgTable(
  'projects',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    plan: text('plan').$type<'free' | 'pro' | 'enterprise'>().notNull().default('free'),
    /** Overrides the plan's key limit (keys not revoked); null means the plan's. */
    keyLimit: integer('key_limit'),
    /** At most this many keys per owning user in this project; null means no such limit. */
    keysPerUser: integer('keys_per_user'),
    spendLimit: jsonb('spend_limit').$type<SpendLimit>().notNull().default({}),
    managedBy: managedBy(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('projects_org_name').on(t.orgId, t.name)],
);

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique(),
  name: text('name'),
  passwordHash: text('password_hash'),
  spendLimit: jsonb('spend_limit').$type<SpendLimit>().notNull().default({}),
  createdAt: created(),
});

export const memberships = pgTable(
  'memberships',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    role: roleEnum('role').notNull(),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.orgId] })],
);

/** Admin API tokens other than the bootstrap one from the environment; hashes only. */
export const adminTokens = pgTable('admin_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: created(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    projectId: uuid('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'restrict' }),
    ownerUserId: uuid('owner_user_id').references(() => users.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    /** SHA-256 of the full key, hex. The key itself is never stored. */
    keyHash: text('key_hash').notNull().unique(),
    /** After a rotation with a grace period: the old secret's hash, valid until `previousExpiresAt`. */
    previousKeyHash: text('previous_key_hash').unique(),
    previousExpiresAt: timestamp('previous_expires_at', { withTimezone: true }),
    preview: text('preview').notNull(),
    status: keyStatusEnum('status').notNull().default('active'),
    /** The role of whoever disabled the key: a member cannot enable a key an admin disabled. */
    disabledByRole: roleEnum('disabled_by_role'),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** The role of whoever set the expiry: a member cannot clear or extend one an admin set. */
    expirySetByRole: roleEnum('expiry_set_by_role'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    metadata: jsonb('metadata').$type<Record<string, string>>().notNull().default({}),
    rules: jsonb('rules').$type<AccessRules>().notNull().default({}),
    spendLimit: jsonb('spend_limit').$type<SpendLimit>().notNull().default({}),
    rateLimits: jsonb('rate_limits').$type<RateLimits>().notNull().default({}),
    createdBy: text('created_by'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('api_keys_project').on(t.projectId), index('api_keys_owner').on(t.ownerUserId)],
);

export const providerCredentials = pgTable(
  'provider_credentials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    provider: text('provider').notNull(),
    authMethod: text('auth_method').notNull(),
    /** Vault ciphertext of the secret fields (see crypto/vault.ts); bound to `id`. */
    secretCiphertext: text('secret_ciphertext').notNull(),
    /** Masked previews of each secret field, e.g. {"apiKey": "sk-••••abcd"}. */
    secretPreview: jsonb('secret_preview').$type<Record<string, string>>().notNull(),
    /** Non-secret settings: base URL, API version, region, … */
    settings: jsonb('settings').$type<Record<string, string>>().notNull().default({}),
    managedBy: managedBy(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [uniqueIndex('provider_credentials_org_name').on(t.orgId, t.name)],
);

export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** The public name callers put in `model`. */
    name: text('name').notNull(),
    /** USD per million tokens. */
    inputPrice: doublePrecision('input_price').notNull().default(0),
    outputPrice: doublePrecision('output_price').notNull().default(0),
    /** Cache reads; null: billed at the input price. */
    cachedInputPrice: doublePrecision('cached_input_price'),
    /** Cache writes with a 5-minute (or unspecified) life; null: billed at the input price. */
    cacheWriteInputPrice: doublePrecision('cache_write_input_price'),
    /** Cache writes with a 1-hour life; null: billed at the 5-minute write price. */
    cacheWrite1hInputPrice: doublePrecision('cache_write_1h_input_price'),
    /**
     * Where each price came from (given, catalogue, derived, none), by API field name; see
     * control/model-prices.ts. Null for models published before it was kept.
     */
    priceSources: jsonb('price_sources').$type<Record<string, string>>(),
    /** Extra attempts on the same target after a retryable failure, before falling back. */
    retries: integer('retries').notNull().default(1),
    /** Most output tokens one call can produce; bounds spend reservations. Null: 4096 assumed. */
    maxOutputTokens: integer('max_output_tokens'),
    managedBy: managedBy(),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [uniqueIndex('models_org_name').on(t.orgId, t.name)],
);

/** Where a model is served: a credential and the provider's own model id. */
export const modelTargets = pgTable(
  'model_targets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    credentialId: uuid('credential_id')
      .notNull()
      .references(() => providerCredentials.id, { onDelete: 'restrict' }),
    upstreamModel: text('upstream_model').notNull(),
    weight: integer('weight').notNull().default(1),
    /** Fallback order: lower is tried first; targets with the same position share load by weight. */
    position: integer('position').notNull().default(0),
    /** How long this target may take to start answering; null: the gateway's default. */
    timeoutMs: integer('timeout_ms'),
  },
  (t) => [index('model_targets_model').on(t.modelId), index('model_targets_credential').on(t.credentialId)],
);

export const usageRecords = pgTable(
  'usage_records',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    time: timestamp('time', { withTimezone: true }).notNull(),
    requestId: text('request_id').notNull(),
    orgId: uuid('org_id'),
    projectId: uuid('project_id'),
    keyId: uuid('key_id'),
    keyName: text('key_name'),
    userId: uuid('user_id'),
    endpoint: text('endpoint').notNull(),
    model: text('model'),
    provider: text('provider'),
    upstreamModel: text('upstream_model'),
    credentialId: uuid('credential_id'),
    status: integer('status').notNull(),
    errorCode: text('error_code'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    /** Prompt tokens read from the provider's cache; part of prompt_tokens. */
    cachedTokens: integer('cached_tokens').notNull().default(0),
    /** Prompt tokens written to the provider's cache, every life (5-minute and 1-hour); part of prompt_tokens. */
    cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
    /** The 1-hour cache writes; part of cache_write_tokens. */
    cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
    /** Output tokens spent on reasoning; part of completion_tokens, billed as output. */
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    /** 'reported' by the provider or 'counted' with a tokenizer; null when nothing was used (or before it was kept). */
    usageSource: text('usage_source'),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    latencyMs: doublePrecision('latency_ms').notNull(),
    ttftMs: doublePrecision('ttft_ms'),
    streamed: boolean('streamed').notNull().default(false),
  },
  // Every index is one more tree updated per request written: queries always name the
  // organisation (or a key, user or project), so these four cover them.
  (t) => [
    index('usage_records_key_time').on(t.keyId, t.time),
    index('usage_records_project_time').on(t.projectId, t.time),
    index('usage_records_user_time').on(t.userId, t.time),
    index('usage_records_org_time').on(t.orgId, t.time),
  ],
);

/**
 * Usage records the database would not take even alone (e.g. a malformed id, a token count out
 * of range): set aside here by the usage writer so the rest of their batch is written. `record`
 * is the record as JSON text, its strings made storable and bounded.
 */
export const usageDeadLetters = pgTable('usage_dead_letters', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  failedAt: timestamp('failed_at', { withTimezone: true }).notNull().defaultNow(),
  requestId: text('request_id'),
  record: text('record').notNull(),
  reason: text('reason').notNull(),
});

/**
 * Every control-plane change that a gateway instance caches appends a row here; instances
 * sharing a database are told of it by Redis pub/sub or LISTEN/NOTIFY and read it here, also to
 * catch up after a lost connection (see coord/change-feed.ts).
 */
export const changes = pgTable('changes', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  kind: text('kind').notNull(),
  ref: text('ref').notNull(),
  at: timestamp('at', { withTimezone: true }).notNull().default(sql`now()`),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type CredentialRow = typeof providerCredentials.$inferSelect;
export type ModelRow = typeof models.$inferSelect;
export type ModelTargetRow = typeof modelTargets.$inferSelect;
export type UsageRow = typeof usageRecords.$inferInsert;
export type UsageRecord = typeof usageRecords.$inferSelect;

/** Instance-wide facts, e.g. the master key's check value. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: updated(),
});

/** Dashboard sign-in sessions; only a hash of the session token is kept. */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** Sent back by the dashboard on every change (x-csrf-token), so other sites cannot forge one. */
    csrfToken: text('csrf_token').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: created(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/**
 * Columns that hold a secret or a value derived from one: password, key and token hashes,
 * credential ciphertext and its masked previews, session ids and CSRF tokens, and `settings`
 * (the set-up token's hash, the master key's check value). Nothing read from or written to them
 * may reach a log: test/hostile/secret-logging.test.ts logs a failed insert and update of each and
 * looks for the value, and fails when a column whose name looks secret is not listed here.
 */
export const SECRET_COLUMNS: readonly AnyPgColumn[] = [
  users.passwordHash,
  adminTokens.tokenHash,
  apiKeys.keyHash,
  apiKeys.previousKeyHash,
  providerCredentials.secretCiphertext,
  providerCredentials.secretPreview,
  settings.value,
  sessions.tokenHash,
  sessions.csrfToken,
];
