import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { PROVIDERS } from '../gateway/providers/registry.ts';
import { projects, usageRecords } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import type { ControlContext } from './context.ts';
import { inRange, sums, timeRange, toAggregates, UsageFilterFields, usageConditions } from './usage-filters.ts';

const DIMENSIONS = ['key', 'model', 'provider', 'project'] as const;
type Dimension = (typeof DIMENSIONS)[number];

const TopQuery = Type.Object({
  by: Type.Union(
    DIMENSIONS.map((dimension) => Type.Literal(dimension)),
    { description: 'What to group by: API key, requested model, provider or project' },
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
  ...UsageFilterFields,
});
type TopQuery = Omit<Static<typeof TopQuery>, 'by'> & { by: Dimension };

const TopResponse = Type.Object({
  by: Type.String(),
  rows: Type.Array(
    Type.Object({
      id: Type.Union([Type.String(), Type.Null()], { description: 'null for requests without one (e.g. no key)' }),
      name: Type.Union([Type.String(), Type.Null()]),
      requests: Type.Integer(),
      promptTokens: Type.Integer(),
      completionTokens: Type.Integer(),
      costUsd: Type.Number(),
    }),
  ),
});

/** The column grouped by, and the name shown for a group. */
const GROUPS: Record<Dimension, { id: PgColumn; name: SQL<string | null>; groupBy: Array<PgColumn | SQL> }> = {
  // A key's name is recorded with each request; a renamed key shows its latest name.
  key: {
    id: usageRecords.keyId,
    name: sql<string | null>`(array_agg(${usageRecords.keyName} order by ${usageRecords.time} desc))[1]`,
    groupBy: [usageRecords.keyId],
  },
  model: { id: usageRecords.model, name: sql<string | null>`${usageRecords.model}`, groupBy: [usageRecords.model] },
  provider: {
    id: usageRecords.provider,
    name: sql<string | null>`${usageRecords.provider}`,
    groupBy: [usageRecords.provider],
  },
  project: {
    id: usageRecords.projectId,
    name: sql<string | null>`${projects.name}`,
    groupBy: [usageRecords.projectId, projects.name],
  },
};

export function usageTopRoute(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Querystring: TopQuery }>(
    '/usage/top',
    {
      config: { access: ACCESS.everyone },
      schema: {
        tags: ['usage'],
        summary: 'The keys, models, providers or projects that cost the most, with their requests and tokens',
        querystring: TopQuery,
        response: { 200: TopResponse },
      },
    },
    async (request) => {
      const query = request.query;
      const group = GROUPS[query.by];
      await ctx.usage.flush();
      const conditions = [...(await usageConditions(ctx, request, query)), ...inRange(timeRange(ctx, query))];
      const totals = sums();
      const select = ctx.db
        .select({ id: group.id, name: group.name, ...totals })
        .from(usageRecords)
        .$dynamic();
      // Only projects need a join: their names are not recorded with each request.
      const joined =
        query.by === 'project' ? select.leftJoin(projects, eq(projects.id, usageRecords.projectId)) : select;
      const rows = await joined
        .where(and(...conditions))
        .groupBy(...group.groupBy)
        .orderBy(sql`${totals.costUsd} desc`, sql`count(*) desc`, sql`${group.id} asc nulls last`)
        .limit(query.limit ?? 10);
      return {
        by: query.by,
        rows: rows.map((row) => {
          const id = row.id === null ? null : String(row.id);
          const name = query.by === 'provider' && id ? (PROVIDERS.get(id)?.label ?? id) : row.name;
          const { requests, promptTokens, completionTokens, costUsd } = toAggregates(row);
          return { id, name, requests, promptTokens, completionTokens, costUsd };
        }),
      };
    },
  );
}
