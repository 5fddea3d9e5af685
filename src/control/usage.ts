import { and, desc, lt } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { type UsageRecord, usageRecords } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { type ControlContext, iso } from './context.ts';
import { aggregates, inRange, timeRange, toAggregates, UsageFilterFields, usageConditions } from './usage-filters.ts';
import { usageSeriesRoute } from './usage-series.ts';
import { usageTopRoute } from './usage-top.ts';

const UsageQuery = Type.Object({
  ...UsageFilterFields,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  /** The `nextCursor` of the previous page. */
  cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
});
type UsageQuery = Static<typeof UsageQuery>;

function present(row: UsageRecord) {
  return { ...row, time: iso(row.time) };
}

/** Usage records with totals, time series and rankings; see usage-series.ts and usage-top.ts. */
export function usageRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Querystring: UsageQuery }>(
    '/usage',
    {
      config: { access: ACCESS.everyone },
      schema: {
        tags: ['usage'],
        summary: 'Usage records, newest first, with totals (sums and latency p50/p95) for the same filters',
        querystring: UsageQuery,
      },
    },
    async (request) => {
      const query = request.query;
      await ctx.usage.flush();
      const filters = [...(await usageConditions(ctx, request, query)), ...inRange(timeRange(ctx, query))];
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
          .select(aggregates())
          .from(usageRecords)
          .where(and(...filters)),
      ]);
      const more = rows.length > limit;
      const records = (more ? rows.slice(0, limit) : rows).map(present);
      return { records, totals: toAggregates(totals), nextCursor: more ? records.at(-1)?.id : null };
    },
  );
  usageSeriesRoute(app, ctx);
  usageTopRoute(app, ctx);
}
