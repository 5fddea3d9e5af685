import { type SQL, sql } from 'drizzle-orm';
import { coalescedReload } from '../../coord/coalesced-reload.ts';
import type { Invalidation } from '../../coord/invalidation.ts';
import type { LimitedScope } from '../../coord/spend-ledger.ts';
import { type Db, rawRows } from '../../store/db.ts';
import { organizations, projects, type SpendLimit, usageRecords, users } from '../../store/schema.ts';
import type { UsageWriter } from '../metering/usage-writer.ts';

export type ScopeKind = 'key' | 'user' | 'project' | 'org';

const COLUMN: Record<ScopeKind, SQL> = {
  key: sql`${usageRecords.keyId}`,
  user: sql`${usageRecords.userId}`,
  project: sql`${usageRecords.projectId}`,
  org: sql`${usageRecords.orgId}`,
};

const FIELD = { key: 'keyId', user: 'userId', project: 'projectId', org: 'orgId' } as const;

export function hasSpendLimit(limit: SpendLimit | null | undefined): limit is SpendLimit {
  return !!limit && (limit.allTimeUsd != null || limit.recurring != null);
}

/**
 * Makes the ledger's view of a limited key, user, project or organisation. What was spent
 * before this process saw the scope is summed from the usage records, after writing out the
 * records still queued so that none is missed.
 */
export class SpendScopes {
  constructor(
    private readonly db: Db,
    private readonly usage: UsageWriter,
  ) {}

  make(kind: ScopeKind, id: string, label: string, limit: SpendLimit | null | undefined): LimitedScope | undefined {
    if (!hasSpendLimit(limit)) return undefined;
    return {
      id: `${kind}:${id}`,
      label,
      limit,
      version: JSON.stringify(limit),
      loadSpent: (since) => this.spent(kind, id, since),
    };
  }

  /** USD spent by the scope: all time, and since `since` (ms) when given — written or still queued. */
  async spent(kind: ScopeKind, id: string, since: number | null): Promise<{ allTime: number; since: number }> {
    const pending = this.usage.pendingSpend(FIELD[kind], id, since);
    const from = since === null ? null : new Date(since).toISOString();
    const [row] = await rawRows<{ all_time: number | string; since: number | string }>(
      this.db,
      sql`select coalesce(sum(${usageRecords.costUsd}), 0)::float8 as all_time,
                 coalesce(sum(${usageRecords.costUsd}) filter (where ${usageRecords.time} >= ${from}::timestamptz), 0)::float8 as since
          from ${usageRecords} where ${COLUMN[kind]} = ${id}`,
    );
    return { allTime: Number(row?.all_time ?? 0) + pending.allTime, since: Number(row?.since ?? 0) + pending.since };
  }
}

/**
 * The spend limits of users, projects and organisations, all in memory (they are few),
 * reloaded whole when one changes.
 */
export class ScopeLimits {
  #scopes = new Map<string, LimitedScope>();

  constructor(
    private readonly db: Db,
    private readonly scopes: SpendScopes,
    invalidation: Invalidation,
    private readonly onError: (error: unknown) => void,
  ) {
    invalidation.subscribe((change) => {
      if (change.kind === 'project' || change.kind === 'user' || change.kind === 'org') return this.reload();
    });
  }

  get(kind: 'user' | 'project' | 'org', id: string | null): LimitedScope | undefined {
    return id === null ? undefined : this.#scopes.get(`${kind}:${id}`);
  }

  /** Reloads; a call made while a load runs loads again after it, so no change is missed. */
  readonly reload = coalescedReload(
    () => this.#load(),
    (error) => this.onError(error),
  );

  async #load(): Promise<void> {
    const limited = sql`spend_limit <> '{}'::jsonb`;
    const [projectRows, orgRows, userRows] = await Promise.all([
      this.db
        .select({ id: projects.id, name: projects.name, limit: projects.spendLimit })
        .from(projects)
        .where(limited),
      this.db
        .select({ id: organizations.id, name: organizations.name, limit: organizations.spendLimit })
        .from(organizations)
        .where(limited),
      this.db.select({ id: users.id, name: users.email, limit: users.spendLimit }).from(users).where(limited),
    ]);
    const next = new Map<string, LimitedScope>();
    const add = (kind: ScopeKind, rows: Array<{ id: string; name: string; limit: SpendLimit }>, noun: string) => {
      for (const row of rows) {
        const scope = this.scopes.make(kind, row.id, `${noun} "${row.name}"`, row.limit);
        if (scope) next.set(scope.id, scope);
      }
    };
    add('project', projectRows, 'project');
    add('org', orgRows, 'organization');
    add('user', userRows, 'user');
    this.#scopes = next;
  }
}
