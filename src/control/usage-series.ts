import { and, min, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import { usageRecords } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import type { ControlContext } from './context.ts';
import {
  AggregateFields,
  type Aggregates,
  aggregates,
  inRange,
  timeRange,
  toAggregates,
  UsageFilterFields,
  usageConditions,
} from './usage-filters.ts';

/** Bucket sizes: their length and their SQL interval (a fixed list, so safe to write inline). */
const BUCKETS = {
  '5m': { ms: 5 * 60_000, interval: '5 minutes' },
  '1h': { ms: 3_600_000, interval: '1 hour' },
  '1d': { ms: 86_400_000, interval: '1 day' },
} as const;
type BucketId = keyof typeof BUCKETS;

/** More buckets than a chart can show, and enough to make the query costly. */
export const MAX_BUCKETS = 2000;

const SeriesQuery = Type.Object({
  bucket: Type.Optional(
    Type.Union(
      Object.keys(BUCKETS).map((id) => Type.Literal(id)),
      { default: '1h', description: 'Bucket size; buckets start at whole 5 minutes, hours or days in UTC' },
    ),
  ),
  ...UsageFilterFields,
});
type SeriesQuery = Omit<Static<typeof SeriesQuery>, 'bucket'> & { bucket?: BucketId };

const SeriesResponse = Type.Object({
  bucket: Type.String(),
  /** The range covered: `since` (default: the first matching record) to `until` (default: now). */
  since: Type.Union([Type.String(), Type.Null()]),
  until: Type.String(),
  buckets: Type.Array(Type.Object({ start: Type.String(), ...AggregateFields })),
});

const EMPTY: Aggregates = {
  requests: 0,
  errors: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  countedRequests: 0,
  costUsd: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
};

/** Start times of the buckets from the one holding `since` to the one holding the last ms before `until`. */
function bucketStarts(since: number, until: number, size: number): { first: number; count: number } {
  const first = Math.floor(since / size) * size;
  const last = Math.floor((until - 1) / size) * size;
  return { first, count: until > since ? (last - first) / size + 1 : 0 };
}

export function usageSeriesRoute(app: FastifyInstance, ctx: ControlContext): void {
  app.get<{ Querystring: SeriesQuery }>(
    '/usage/series',
    {
      config: { access: ACCESS.everyone },
      schema: {
        tags: ['usage'],
        summary: `Usage over time in equal buckets (at most ${MAX_BUCKETS}): requests, errors, tokens, cost, latency p50/p95`,
        description:
          'Every bucket from `since` to `until` is listed, empty ones included. Without `since` the series starts at the first matching record.',
        querystring: SeriesQuery,
        response: { 200: SeriesResponse },
      },
    },
    async (request) => {
      const query = request.query;
      const bucket: BucketId = query.bucket ?? '1h';
      const { ms: size, interval } = BUCKETS[bucket];
      await ctx.usage.flush();
      const range = timeRange(ctx, query);
      const until = range.until ?? new Date(ctx.clock());
      let since = range.since;
      if (since && since > until) throw new TollgateError('TG_ERR_INVALID_REQUEST', '"since" must be before "until"');
      const filters = await usageConditions(ctx, request, query);
      if (!since) {
        const [first] = await ctx.db
          .select({ time: min(usageRecords.time) })
          .from(usageRecords)
          .where(and(...filters, ...inRange({ until })));
        since = first?.time ? new Date(first.time) : undefined;
      }
      const { first, count } = since ? bucketStarts(since.getTime(), until.getTime(), size) : { first: 0, count: 0 };
      if (count > MAX_BUCKETS) {
        throw new TollgateError(
          'TG_ERR_INVALID_REQUEST',
          `${count} buckets of ${bucket} from ${since?.toISOString()} to ${until.toISOString()}; at most ${MAX_BUCKETS} — choose a larger bucket or a shorter range`,
        );
      }
      const byStart = new Map<number, Aggregates>();
      if (count > 0) {
        // date_bin (PostgreSQL 14+, PGlite included) with the Unix epoch as origin puts every
        // bucket at a whole multiple of its size since 1970, as bucketStarts() does.
        const bin = sql`date_bin(${sql.raw(`'${interval}'::interval`)}, ${usageRecords.time}, ${sql.raw("'1970-01-01T00:00:00Z'::timestamptz")})`;
        const rows = await ctx.db
          .select({ start: sql<number>`(extract(epoch from ${bin}) * 1000)::float8`, ...aggregates() })
          .from(usageRecords)
          .where(and(...filters, ...inRange({ since, until })))
          .groupBy(bin);
        for (const row of rows) byStart.set(Number(row.start), toAggregates(row));
      }
      const buckets = Array.from({ length: count }, (_, index) => {
        const start = first + index * size;
        return { start: new Date(start).toISOString(), ...(byStart.get(start) ?? EMPTY) };
      });
      return { bucket, since: since?.toISOString() ?? null, until: until.toISOString(), buckets };
    },
  );
}
