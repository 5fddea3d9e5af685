import type { UsageRow } from '../../store/schema.ts';

export type SpendField = 'keyId' | 'userId' | 'projectId' | 'orgId';
const FIELDS: SpendField[] = ['keyId', 'userId', 'projectId', 'orgId'];
const MINUTE_MS = 60_000;

/**
 * The cost of usage records kept out of the database (in the spool), per key, user, project and
 * organisation and per minute: a few numbers per scope and minute instead of the records, so
 * that an outage of hours costs little memory.
 */
export class SpoolSpend {
  readonly #minutes = new Map<string, Map<number, number>>();

  add(row: UsageRow): void {
    this.#apply(row, 1);
  }

  remove(row: UsageRow): void {
    this.#apply(row, -1);
  }

  /**
   * USD of the scope's records, all time and since `since` (ms). A minute that straddles
   * `since` counts whole: the error is on the safe side (a limit is reached a little early).
   */
  of(field: SpendField, id: string, since: number | null): { allTime: number; since: number } {
    let allTime = 0;
    let recent = 0;
    for (const [minute, cost] of this.#minutes.get(`${field}:${id}`) ?? []) {
      allTime += cost;
      if (since !== null && minute + MINUTE_MS > since) recent += cost;
    }
    return { allTime, since: recent };
  }

  #apply(row: UsageRow, sign: 1 | -1): void {
    const cost = row.costUsd ?? 0;
    if (!(cost > 0 && Number.isFinite(cost))) return;
    const minute = Math.floor(row.time.getTime() / MINUTE_MS) * MINUTE_MS;
    for (const field of FIELDS) {
      const id = row[field];
      if (!id) continue;
      const scope = `${field}:${id}`;
      let minutes = this.#minutes.get(scope);
      if (!minutes) {
        if (sign < 0) continue;
        minutes = new Map();
        this.#minutes.set(scope, minutes);
      }
      const next = (minutes.get(minute) ?? 0) + sign * cost;
      // Sums of floating-point amounts do not come back to exactly zero.
      if (next > 1e-12) minutes.set(minute, next);
      else minutes.delete(minute);
      if (minutes.size === 0) this.#minutes.delete(scope);
    }
  }
}
