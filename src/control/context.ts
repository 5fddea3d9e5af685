import type { Plan } from '../config.ts';
import type { Invalidation } from '../coord/invalidation.ts';
import type { Vault } from '../crypto/vault.ts';
import type { UsageWriter } from '../gateway/metering/usage-writer.ts';
import type { Db } from '../store/db.ts';

export interface ControlContext {
  db: Db;
  vault: Vault;
  invalidation: Invalidation;
  usage: UsageWriter;
  /** The organisation admin tokens act in. */
  orgId: string;
  plans: { keyLimits: Record<Plan, number | null>; defaultPlan: Plan };
  clock: () => number;
}

/** What the control plane's write services need: everything but the usage writer. */
export type WriteContext = Omit<ControlContext, 'usage'>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `:ref` path parameters accept an id or, where names are unique, a name. */
export function isUuid(ref: string): boolean {
  return UUID.test(ref);
}

export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}
