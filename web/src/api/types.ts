/** Shapes of the admin API's answers, as the dashboard uses them. */

export type Role = 'owner' | 'admin' | 'member' | 'viewer';
export type KeyStatus = 'active' | 'disabled' | 'revoked';
export type WindowUnit = 'hour' | 'day' | 'week' | 'month';
export type PriceTier = 'free' | 'paid';

export interface Me {
  user: { id: string; email: string; name: string | null; role: Role };
  organization: { id: string; name: string };
  csrfToken: string;
}

export interface SpendLimit {
  allTimeUsd?: number | null;
  recurring?: { usd: number; count: number; unit: WindowUnit; startedAt: string } | null;
}

export interface SpendReport {
  allTimeUsd: number;
  period: { start: string; end: string; spentUsd: number } | null;
}

export interface AccessRules {
  allowModels?: string[];
  denyModels?: string[];
  allowProviders?: string[];
  denyProviders?: string[];
  allowPricing?: PriceTier[];
  denyPricing?: PriceTier[];
  maxInputPrice?: number | null;
  maxOutputPrice?: number | null;
}

export interface RateLimits {
  rpm?: number | null;
  tpm?: number | null;
  maxParallel?: number | null;
}

export interface ApiKey {
  id: string;
  name: string;
  preview: string;
  status: KeyStatus;
  projectId: string;
  project: string;
  ownerUserId: string | null;
  metadata: Record<string, string>;
  rules: AccessRules;
  hasRules: boolean;
  spendLimit: SpendLimit;
  rateLimits: RateLimits;
  spend?: SpendReport;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  rotatedGraceEndsAt: string | null;
}

/** Creation and rotation answer with the key itself, once. */
export interface ApiKeyWithSecret extends ApiKey {
  key: string;
}

export interface Project {
  id: string;
  name: string;
  plan: 'free' | 'pro' | 'enterprise';
  keyLimit: number | null;
  keyLimitOverride: number | null;
  keysUsed: number;
  keysUsage: string;
  canCreateKey: boolean;
  /** Why the signed-in user cannot create a key in this project now; null when they can. */
  createKeyRefusal: string | null;
  keysPerUser: number | null;
  spendLimit: SpendLimit;
  spend?: SpendReport;
  /** 'tollgate.yaml' when a declarative file manages it; null when made by hand. */
  managedBy: string | null;
  createdAt: string;
}

export interface CredentialField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  default?: string;
}

export interface AuthMethod {
  id: string;
  label: string;
  fields: CredentialField[];
}

export interface Provider {
  id: string;
  label: string;
  format: string;
  authMethods: AuthMethod[];
  endpoints: string[];
}

export interface Credential {
  id: string;
  name: string;
  provider: string;
  authMethod: string;
  secrets: Record<string, string>;
  settings: Record<string, string>;
  models: string[];
  /** 'tollgate.yaml' when a declarative file manages it; null when made by hand. */
  managedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ModelTarget {
  credentialId: string;
  credential: string;
  provider: string;
  upstreamModel: string;
  weight: number;
  priority: number;
  timeoutMs: number | null;
}

export type PriceField =
  | 'inputPrice'
  | 'outputPrice'
  | 'cachedInputPrice'
  | 'cacheWriteInputPrice'
  | 'cacheWrite1hInputPrice';
/** given by an admin, from the catalogue, derived from the input price, or none (billed at the input price). */
export type PriceSource = 'given' | 'catalogue' | 'derived' | 'none';

export interface Model {
  id: string;
  name: string;
  inputPrice: number;
  outputPrice: number;
  /** Cache reads; null: billed at the input price. */
  cachedInputPrice: number | null;
  /** 5-minute cache writes; null: billed at the input price. */
  cacheWriteInputPrice: number | null;
  /** 1-hour cache writes; null: billed at the 5-minute write price. */
  cacheWrite1hInputPrice: number | null;
  /** Where each price came from. */
  priceSources: Record<PriceField, PriceSource>;
  /** What the prices mean for billing where it is not plain (derived prices, tokens at the input price). */
  priceNotes: string[];
  retries: number;
  maxOutputTokens: number | null;
  /** 'tollgate.yaml' when a declarative file manages it; null when made by hand. */
  managedBy: string | null;
  targets: ModelTarget[];
  createdAt: string;
  updatedAt: string;
}

export interface UsageRecord {
  id: number;
  time: string;
  requestId: string;
  projectId: string | null;
  keyId: string | null;
  keyName: string | null;
  userId: string | null;
  endpoint: string;
  model: string | null;
  provider: string | null;
  upstreamModel: string | null;
  status: number;
  errorCode: string | null;
  promptTokens: number;
  completionTokens: number;
  /** Cache reads, part of promptTokens. */
  cachedTokens: number;
  /** Cache writes (5-minute and 1-hour), part of promptTokens. */
  cacheWriteTokens: number;
  /** The 1-hour part of cacheWriteTokens. */
  cacheWrite1hTokens: number;
  /** Reasoning, part of completionTokens. */
  reasoningTokens: number;
  /** Reported by the provider or counted with a tokenizer; null when nothing was used. */
  usageSource: 'reported' | 'counted' | null;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  streamed: boolean;
}

export interface UsageTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Requests whose tokens were counted with a tokenizer (the provider reported none). */
  countedRequests: number;
  costUsd: number;
  /** Interpolated percentiles of latency; null without requests. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export type UsageBucketSize = '5m' | '1h' | '1d';

/** GET /api/v1/usage/series: every bucket from `since` to `until`, empty ones included. */
export interface UsageSeries {
  bucket: UsageBucketSize;
  since: string | null;
  until: string;
  buckets: Array<UsageTotals & { start: string }>;
}

export type UsageDimension = 'key' | 'model' | 'provider' | 'project';

/** GET /api/v1/usage/top: the costliest keys, models, providers or projects. */
export interface UsageTop {
  by: UsageDimension;
  rows: Array<{
    /** null for requests without one, e.g. refused before a key was known. */
    id: string | null;
    name: string | null;
    requests: number;
    promptTokens: number;
    completionTokens: number;
    costUsd: number;
  }>;
}

export interface UsagePage {
  records: UsageRecord[];
  totals: UsageTotals;
  nextCursor: number | null;
}

export interface Member {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  spendLimit: SpendLimit;
  spend?: SpendReport;
  createdAt: string;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  spendLimit: SpendLimit;
  spend: SpendReport | null;
  createdAt: string;
}
