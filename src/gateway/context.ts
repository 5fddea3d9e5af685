import type { RateLimiter } from '../coord/rate-limiter.ts';
import type { SpendLedger } from '../coord/spend-ledger.ts';
import type { UsageWriter } from './metering/usage-writer.ts';
import type { AuthFailures } from './policy/auth-failures.ts';
import type { KeyCache } from './policy/key-cache.ts';
import type { ScopeLimits } from './policy/spend-scopes.ts';
import type { ModelRegistry } from './routing/model-registry.ts';
import type { TargetHealth } from './routing/resilience.ts';

/** What the data-plane routes need; all of it in memory. */
export interface GatewayContext {
  keys: KeyCache;
  /** Unknown keys presented per client address (see policy/auth-failures.ts). */
  authFailures: AuthFailures;
  models: ModelRegistry;
  usage: UsageWriter;
  ledger: SpendLedger;
  limiter: RateLimiter;
  scopeLimits: ScopeLimits;
  /** Failing targets rest here for a while (see routing/resilience.ts). */
  health: TargetHealth;
  /** Milliseconds since the epoch; injectable so tests can move time. */
  clock: () => number;
  upstreamTimeoutMs: number;
  /** The whole time a request may wait for providers, retries and fallbacks included (ms). */
  requestDeadlineMs: number;
  /** Largest non-streamed provider body read, in bytes. */
  upstreamBodyLimit: number;
}
