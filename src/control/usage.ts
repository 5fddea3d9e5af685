import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import { type UsageRecord, usageRecords } from '../store/schema.ts';
import { ownScope } from './admin-auth.ts';
import { type ControlContext, iso, UUID } from './context.ts';
import { findProject } from './projects.ts';

const UsageQuery = Type.Object({
  key: Type.Optional(Type.String({ pattern: UUID.source })),
  project: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  /** ISO time, or a duration back from now such as 15m, 24h, 7d. */
  since: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  /** The `nextCursor` of the previous page. */
  cursor: Type.Optional(Type.Integer({ minimum: 1 })),
});
type UsageQuery = Static<typeof UsageQuery>;

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** An ISO time or a duration before `now` (`30m`, `24h`, `7d`). */
export function parseTime(value: string, name: string, now = Date.now()): Date {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) return new Date(now - Number(relative[1]) * (UNITS[relative[2] as string] as number));
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `"${name}" must be an ISO date-time or a duration like 24h or 7d`,
    );
  }
  return date;
}

function present(row: UsageRecord) {
  return { ...row, time: iso(row.time) };
}

export function usageRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Querystring: UsageQuery }>(
    '/api/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Usage records, newest first, with totals for the same filters',
        querystring: UsageQuery,
      },
    },
    async (request) => {
      const query = request.query;
      await ctx.usage.flush();
      const filters: SQL[] = [eq(usageRecords.orgId, ctx.orgId)];
      // Members see the usage of their own keys only.
      const own = ownScope(request.actor);
      if (own) filters.push(eq(usageRecords.userId, own));
      if (query.key) filters.push(eq(usageRecords.keyId, query.key));
      if (query.project)
        filters.push(eq(usageRecords.projectId, (await findProject(ctx.db, ctx.orgId, query.project)).id));
      if (query.model) filters.push(eq(usageRecords.model, query.model));
      if (query.provider) filters.push(eq(usageRecords.provider, query.provider));
      if (query.status) filters.push(eq(usageRecords.status, query.status));
      if (query.since) filters.push(gte(usageRecords.time, parseTime(query.since, 'since')));
      if (query.until) filters.push(lt(usageRecords.time, parseTime(query.until, 'until')));
      const limit = query.limit ?? 100;
      const page = query.cursor ? [...filters, lt(usageRecords.id, query.cursor)] : filters;
      const [rows, [totals]] = await Promise.all([
        ctx.db
          .select()
          .from(usageRecords)
          .where(and(...page))
          .orderBy(desc(usageRecords.id))
          .limit(limit + 1),
        ctx.db
          .select({
            requests: sql<number>`count(*)::int`,
            errors: sql<number>`count(*) filter (where ${usageRecords.status} >= 400)::int`,
            promptTokens: sql<number>`coalesce(sum(${usageRecords.promptTokens}), 0)::bigint`,
            completionTokens: sql<number>`coalesce(sum(${usageRecords.completionTokens}), 0)::bigint`,
            cachedTokens: sql<number>`coalesce(sum(${usageRecords.cachedTokens}), 0)::bigint`,
            costUsd: sql<number>`coalesce(sum(${usageRecords.costUsd}), 0)::float8`,
          })
          .from(usageRecords)
          .where(and(...filters)),
      ]);
      const more = rows.length > limit;
      const records = (more ? rows.slice(0, limit) : rows).map(present);
      return {
        records,
        totals: Object.fromEntries(Object.entries(totals ?? {}).map(([name, value]) => [name, Number(value)])),
        nextCursor: more ? records.at(-1)?.id : null,
      };
    },
  );
}
