import { sql } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import type { UsageRow } from '../../store/schema.ts';

/** The columns a usage record is written with, and their types for `jsonb_to_recordset`. */
export const RECORD_COLUMNS: Array<[string, string]> = [
  ['time', 'timestamptz'],
  ['request_id', 'text'],
  ['org_id', 'uuid'],
  ['project_id', 'uuid'],
  ['key_id', 'uuid'],
  ['key_name', 'text'],
  ['user_id', 'uuid'],
  ['endpoint', 'text'],
  ['model', 'text'],
  ['provider', 'text'],
  ['upstream_model', 'text'],
  ['credential_id', 'uuid'],
  ['status', 'integer'],
  ['error_code', 'text'],
  ['prompt_tokens', 'integer'],
  ['completion_tokens', 'integer'],
  ['cached_tokens', 'integer'],
  ['cache_write_tokens', 'integer'],
  ['cache_write_1h_tokens', 'integer'],
  ['reasoning_tokens', 'integer'],
  ['usage_source', 'text'],
  ['cost_usd', 'double precision'],
  ['latency_ms', 'double precision'],
  ['ttft_ms', 'double precision'],
  ['streamed', 'boolean'],
];
const COLUMNS = RECORD_COLUMNS.map(([name]) => name).join(', ');
const RECORD_TYPE = RECORD_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

/**
 * Leaves out the rows already in usage_records: same request id, time and key. A record has one
 * request id (`req_` and a random UUID) and keeps its time from the request, so the three find
 * it again; key and time lead the `usage_records_key_time` index, so the check costs one index
 * probe per row and needs no index of its own (nor a unique constraint, which every write would
 * pay for). Used only for records whose earlier attempt may have committed.
 */
const NOT_WRITTEN = sql.raw(`
  where not exists (select 1 from usage_records u
                    where u.key_id = r.key_id and u.time = r.time and u.request_id = r.request_id)
    and not exists (select 1 from usage_records u
                    where r.key_id is null and u.key_id is null and u.time = r.time and u.request_id = r.request_id)`);

/**
 * Writes one batch in one transaction and two statements: the rows travel as a single JSON
 * parameter expanded by `jsonb_to_recordset` (building thousands of bind parameters cost more
 * than the insert), and `last_used_at` is stamped for all the batch's keys at once. With
 * `skipWritten`, rows already in the table are left out (see NOT_WRITTEN).
 */
export async function insertUsage(db: Db, batch: UsageRow[], skipWritten: boolean): Promise<void> {
  const lastUsed = new Map<string, number>();
  const rows = batch.map((row) => {
    const time = row.time.getTime();
    if (row.keyId && time > (lastUsed.get(row.keyId) ?? 0)) lastUsed.set(row.keyId, time);
    return {
      time: row.time.toISOString(),
      request_id: row.requestId,
      org_id: row.orgId ?? null,
      project_id: row.projectId ?? null,
      key_id: row.keyId ?? null,
      key_name: row.keyName ?? null,
      user_id: row.userId ?? null,
      endpoint: row.endpoint,
      model: row.model ?? null,
      provider: row.provider ?? null,
      upstream_model: row.upstreamModel ?? null,
      credential_id: row.credentialId ?? null,
      status: row.status,
      error_code: row.errorCode ?? null,
      prompt_tokens: row.promptTokens ?? 0,
      completion_tokens: row.completionTokens ?? 0,
      cached_tokens: row.cachedTokens ?? 0,
      cache_write_tokens: row.cacheWriteTokens ?? 0,
      cache_write_1h_tokens: row.cacheWrite1hTokens ?? 0,
      reasoning_tokens: row.reasoningTokens ?? 0,
      usage_source: row.usageSource ?? null,
      cost_usd: row.costUsd ?? 0,
      latency_ms: row.latencyMs,
      ttft_ms: row.ttftMs ?? null,
      streamed: row.streamed ?? false,
    };
  });
  const keys = [...lastUsed].map(([id, time]) => ({ id, time: new Date(time).toISOString() }));
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into usage_records (${sql.raw(COLUMNS)})
      select ${sql.raw(COLUMNS)} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${sql.raw(RECORD_TYPE)})
      ${skipWritten ? NOT_WRITTEN : sql``}`);
    if (keys.length > 0) {
      await tx.execute(sql`
        update api_keys set last_used_at = greatest(api_keys.last_used_at, k.time)
        from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(id uuid, time timestamptz)
        where api_keys.id = k.id`);
    }
  });
}

/** A write that outlived its timeout: it may still commit, so its records must not be written again until it settles. */
export class Stalled extends Error {
  readonly code = 'TG_USAGE_WRITE_TIMEOUT';
  constructor(
    readonly rows: UsageRow[],
    readonly attempt: Promise<void>,
    ms: number,
  ) {
    super(`the database did not finish a write within ${ms} ms`);
  }
}

/** `promise`, or the error `onTimeout` makes if it has not settled within `ms` (it goes on regardless). */
export const timeout = <T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
};
