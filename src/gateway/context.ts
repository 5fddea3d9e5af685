import type { UsageWriter } from './metering/usage-writer.ts';
import type { KeyCache } from './policy/key-cache.ts';
import type { ModelRegistry } from './routing/model-registry.ts';

/** What the data-plane routes need; all of it in memory. */
export interface GatewayContext {
  keys: KeyCache;
  models: ModelRegistry;
  usage: UsageWriter;
  upstreamTimeoutMs: number;
}
