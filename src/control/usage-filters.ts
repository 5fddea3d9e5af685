import { eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import { usageRecords } from '../store/schema.ts';
import { ownScope } from './admin-auth.ts';
import { Ref } from './bounds.ts';
import { type ControlContext, UUID } from './context.ts';
import { findProject } from './projects.ts';

/** The filters every usage query takes: records, totals, time series and rankings. */
export const UsageFilterFields = {
  key: Type.Optional(Type.String({ pattern: UUID.source, description: 'API key id' })),
  project: Type.Optional(Ref('Project id or name')),
  model: Type.Optional(Type.String({ maxLength: 256, description: 'Requested (public) model name' })),
  provider: Type.Optional(Type.String({ maxLength: 100 })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  since: Type.Optional(
    Type.String({
      maxLength: 64,
      description: 'Inclusive: an ISO date-time, or a duration back from now such as 15m, 24h, 7d',
    }),
  ),
  until: Type.Optional(
    Type.String({ maxLength: 64, description: 'Exclusive: an ISO date-time or a duration back from now' }),
  ),
};

export interface UsageFilters {
  key?: string;
  project?: string;
  model?: string;
  provider?: string;
  status?: number;
  since?: string;
  until?: string;
}

const UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** Times a query may name: from the epoch to the end of year 9999 (PostgreSQL stores no earlier than 4713 BC). */
const EARLIEST = 0;
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO time or a duration before `now` (`30m`, `24h`, `7d`), between 1970 and 9999. */
export function parseTime(value: string, name: string, now = Date.now()): Date {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  const time = relative
    ? now - Number(relative[1]) * (UNITS[relative[2] as string] as number)
    : new Date(value).getTime();
  if (Number.isNaN(time)) {
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `"${name}" must be an ISO date-time or a duration like 24h or 7d`,
    );
  }
  if (!(time >= EARLIEST && time <= LATEST)) {
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `"${name}" must be a time from 1970 to 9999; "${value.slice(0, 64)}" is outside it`,
    );
  }
  return new Date(time);
}

/** The time range a query names; either end may be open. */
export function timeRange(ctx: ControlContext, query: UsageFilters): { since?: Date; until?: Date } {
  const now = ctx.clock();
  return {
    ...(query.since ? { since: parseTime(query.since, 'since', now) } : {}),
    ...(query.until ? { until: parseTime(query.until, 'until', now) } : {}),
  };
}

/**
 * The WHERE conditions for a usage query's filters: the organisation, key, project, model,
 * provider and status, and for members their own usage only. The time range is separate
 * (`inRange`), as some queries look past it.
 */
export async function usageConditions(
  ctx: ControlContext,
  request: FastifyRequest,
  query: UsageFilters,
): Promise<SQL[]> {
  const conditions: SQL[] = [eq(usageRecords.orgId, ctx.orgId)];
  // Members see the usage of their own keys only.
  const own = ownScope(request.actor);
  if (own) conditions.push(eq(usageRecords.userId, own));
  if (query.key) conditions.push(eq(usageRecords.keyId, query.key));
  if (query.project)
    conditions.push(eq(usageRecords.projectId, (await findProject(ctx.db, ctx.orgId, query.project)).id));
  if (query.model) conditions.push(eq(usageRecords.model, query.model));
  if (query.provider) conditions.push(eq(usageRecords.provider, query.provider));
  if (query.status) conditions.push(eq(usageRecords.status, query.status));
  return conditions;
}

/** Records from `since` (inclusive) to `until` (exclusive). */
export function inRange(range: { since?: Date | undefined; until?: Date | undefined }): SQL[] {
  const conditions: SQL[] = [];
  if (range.since) conditions.push(gte(usageRecords.time, range.since));
  if (range.until) conditions.push(lt(usageRecords.time, range.until));
  return conditions;
}

/** Sums over a set of usage records, as selected columns. */
export function sums() {
  return {
    requests: sql<number>`count(*)::int`,
    promptTokens: sql<number>`coalesce(sum(${usageRecords.promptTokens}), 0)::bigint`,
    completionTokens: sql<number>`coalesce(sum(${usageRecords.completionTokens}), 0)::bigint`,
    cachedTokens: sql<number>`coalesce(sum(${usageRecords.cachedTokens}), 0)::bigint`,
    cacheWriteTokens: sql<number>`coalesce(sum(${usageRecords.cacheWriteTokens}), 0)::bigint`,
    reasoningTokens: sql<number>`coalesce(sum(${usageRecords.reasoningTokens}), 0)::bigint`,
    costUsd: sql<number>`coalesce(sum(${usageRecords.costUsd}), 0)::float8`,
  };
}

/** Requests, errors, sums and latency percentiles (interpolated, as `percentile_cont`). */
export function aggregates() {
  return {
    ...sums(),
    errors: sql<number>`count(*) filter (where ${usageRecords.status} >= 400)::int`,
    countedRequests: sql<number>`count(*) filter (where ${usageRecords.usageSource} = 'counted')::int`,
    latencyP50Ms: sql<number | null>`percentile_cont(0.5) within group (order by ${usageRecords.latencyMs})`,
    latencyP95Ms: sql<number | null>`percentile_cont(0.95) within group (order by ${usageRecords.latencyMs})`,
  };
}

export interface Aggregates {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** Requests whose tokens Tollgate counted because the provider reported none. */
  countedRequests: number;
  costUsd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

const number = (value: unknown) => Number(value ?? 0);
const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** Drivers give bigints as text and may give floats as text: numbers, and null for no latency. */
export function toAggregates(row: Record<string, unknown> | undefined): Aggregates {
  return {
    requests: number(row?.requests),
    errors: number(row?.errors),
    promptTokens: number(row?.promptTokens),
    completionTokens: number(row?.completionTokens),
    cachedTokens: number(row?.cachedTokens),
    cacheWriteTokens: number(row?.cacheWriteTokens),
    reasoningTokens: number(row?.reasoningTokens),
    countedRequests: number(row?.countedRequests),
    costUsd: number(row?.costUsd),
    latencyP50Ms: orNull(row?.latencyP50Ms),
    latencyP95Ms: orNull(row?.latencyP95Ms),
  };
}

/** The shape of `Aggregates` for response schemas and the OpenAPI document. */
export const AggregateFields = {
  requests: Type.Integer(),
  errors: Type.Integer({ description: 'Requests answered with status 400 or above' }),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  cachedTokens: Type.Integer({ description: 'Prompt tokens read from the provider cache' }),
  cacheWriteTokens: Type.Integer({ description: 'Prompt tokens written to the provider cache (5-minute and 1-hour)' }),
  reasoningTokens: Type.Integer({ description: 'Output tokens spent on reasoning (billed as output)' }),
  countedRequests: Type.Integer({ description: 'Requests whose tokens were counted with a tokenizer, not reported' }),
  costUsd: Type.Number(),
  latencyP50Ms: Type.Union([Type.Number(), Type.Null()], { description: 'Median latency; null without requests' }),
  latencyP95Ms: Type.Union([Type.Number(), Type.Null()]),
};
