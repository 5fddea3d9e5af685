import type { RateLimits } from '../store/schema.ts';
import {
  InMemoryRateLimiter,
  RateAmountError,
  type RateDecision,
  type RateLimiter,
  secondsUntilBelow,
  WINDOW_MS,
} from './rate-limiter.ts';
import {
  type CoordLink,
  HEARTBEAT_MS,
  IDLE_RETURN_MS,
  LEASE_FRACTION,
  LEASE_TTL_MS,
  RECLAIM_WAITS_MS,
  SYNC_DELAY_MS,
} from './redis-link.ts';

/** Token counts read from Redis are trusted this long for a tpm check (ms). */
const TOKENS_FRESH_MS = 250;

interface KeyLocal {
  /** Start of the minute the request lease belongs to. */
  minute: number;
  /** Requests leased from that minute and not used yet. */
  left: number;
  /** Leased requests of past minutes, or idle ones, to give back. */
  giveBack: { minute: number; count: number }[];
  /** Token counts at the last read: this minute's and the previous one's, and when read. */
  tokens: { minute: number; current: number; previous: number; at: number };
  /** Tokens used since, not yet added in Redis. */
  tokensUnsynced: number;
  /** Concurrency slots leased to this instance, and how many of them requests in flight use. */
  slots: number;
  inFlight: number;
  /** Requests admitted on this instance's own counters while Redis was unreachable. */
  degraded: number;
  lastUsed: number;
  reclaim: boolean;
}

const minuteOf = (now: number) => now - (now % WINDOW_MS);

/**
 * Requests per minute, tokens per minute and concurrent requests per key, shared by every
 * instance through Redis. Requests per minute are leased (a slice of the minute's remaining
 * requests, counted in Redis at once), so most requests are admitted without a round trip; the
 * tpm check reads the shared token counts at most every 250 ms; a concurrency slot is one round
 * trip, since a slot must be counted where every instance sees it. Slots and leases of an
 * instance that dies expire within LEASE_TTL_MS.
 */
export class SharedRateLimiter implements RateLimiter {
  readonly #keys = new Map<string, KeyLocal>();
  readonly #fallback = new InMemoryRateLimiter();
  /** Per key and kind, the last Redis call queued (calls for one key go one at a time). */
  readonly #queues = new Map<string, Promise<unknown>>();
  #syncTimer: NodeJS.Timeout | undefined;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(
    private readonly link: CoordLink,
    /** Whether rate limits fall back to this instance's own counters while Redis is down. */
    private readonly openOnFailure: boolean,
  ) {
    link.onReclaim((scope) => {
      if (!scope.startsWith('rate:')) return;
      const local = this.#keys.get(scope.slice(5));
      if (local && (local.left > 0 || local.slots > local.inFlight)) {
        local.reclaim = true;
        this.#scheduleSync(0);
      }
    });
    this.#heartbeat = setInterval(() => void this.#syncAll(true), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  #local(keyId: string, now: number): KeyLocal {
    let local = this.#keys.get(keyId);
    if (!local) {
      local = {
        minute: minuteOf(now),
        left: 0,
        giveBack: [],
        tokens: { minute: 0, current: 0, previous: 0, at: 0 },
        tokensUnsynced: 0,
        slots: 0,
        inFlight: 0,
        degraded: 0,
        lastUsed: Date.now(),
        reclaim: false,
      };
      this.#keys.set(keyId, local);
    }
    const minute = minuteOf(now);
    if (local.minute !== minute) {
      if (local.left > 0) local.giveBack.push({ minute: local.minute, count: local.left });
      local.minute = minute;
      local.left = 0;
    }
    return local;
  }

  /** The tpm refusal, from the last counts read, or undefined when the key is within it. */
  #tokensRefusal(local: KeyLocal, tpm: number | null | undefined, now: number): RateDecision | undefined {
    if (tpm == null) return undefined;
    const elapsed = now - local.minute;
    const { current, previous } = local.tokens;
    const used = current + local.tokensUnsynced;
    if (previous * (1 - elapsed / WINDOW_MS) + used < tpm) return undefined;
    return {
      ok: false,
      retryAfterSeconds: secondsUntilBelow(previous, used, elapsed, tpm),
      reason: `${tpm} tokens per minute`,
    };
  }

  admit(keyId: string, limits: RateLimits, now: number): RateDecision | Promise<RateDecision> {
    const local = this.#local(keyId, now);
    const { rpm, tpm, maxParallel } = limits;
    const tokensFresh =
      tpm == null || (local.tokens.minute === local.minute && Date.now() - local.tokens.at < TOKENS_FRESH_MS);
    if ((maxParallel == null || local.inFlight < local.slots) && (rpm == null || local.left >= 1) && tokensFresh) {
      const refused = this.#tokensRefusal(local, tpm, now);
      if (refused) return refused;
      if (rpm != null) local.left -= 1;
      if (maxParallel != null) local.inFlight += 1;
      local.lastUsed = Date.now();
      return { ok: true };
    }
    return this.#admitSlowly(keyId, limits, now).catch((error) => {
      if (!this.openOnFailure) throw this.link.unavailable();
      void error;
      // Degraded (TOLLGATE_COORD_FAILURE=open or auto): this instance's own counters decide.
      const decision = this.#fallback.admit(keyId, limits, now);
      if (decision.ok) this.#local(keyId, now).degraded += 1;
      return decision;
    });
  }

  async #admitSlowly(keyId: string, limits: RateLimits, now: number): Promise<RateDecision> {
    const { rpm, tpm, maxParallel } = limits;
    if (maxParallel != null && !(await this.#takeSlot(keyId, maxParallel, now))) {
      return { ok: false, retryAfterSeconds: 1, reason: `at most ${maxParallel} concurrent requests per key` };
    }
    const decision = await this.#admitRate(keyId, rpm, tpm, now).catch((error) => {
      if (maxParallel != null) this.#freeSlot(keyId, now);
      throw error;
    });
    if (!decision.ok && maxParallel != null) this.#freeSlot(keyId, now);
    if (decision.ok) this.#local(keyId, now).lastUsed = Date.now();
    return decision;
  }

  async #admitRate(
    keyId: string,
    rpm: number | null | undefined,
    tpm: number | null | undefined,
    now: number,
  ): Promise<RateDecision> {
    let reclaims = 0;
    for (;;) {
      const local = this.#local(keyId, now);
      const tokensFresh =
        tpm == null || (local.tokens.minute === local.minute && Date.now() - local.tokens.at < TOKENS_FRESH_MS);
      if ((rpm == null || local.left >= 1) && tokensFresh) {
        const refused = this.#tokensRefusal(local, tpm, now);
        if (refused) return refused;
        if (rpm != null) local.left -= 1;
        return { ok: true };
      }
      const minute = local.minute;
      const elapsed = now - minute;
      const weight = 1 - elapsed / WINDOW_MS;
      const reply = await this.#serial(`rpm:${keyId}`, () => {
        const current = this.#local(keyId, now);
        const fresh =
          tpm == null || (current.tokens.minute === minute && Date.now() - current.tokens.at < TOKENS_FRESH_MS);
        // An earlier call for this key brought what this request needs: look again without asking.
        if (current.minute !== minute || ((rpm == null || current.left >= 1) && fresh)) return undefined;
        return this.link.run((redis) =>
          redis.rateAcquire(
            `tg:rpm:${keyId}:${minute}`,
            `tg:rpm:${keyId}:${minute - WINDOW_MS}`,
            `tg:tpm:${keyId}:${minute}`,
            `tg:tpm:${keyId}:${minute - WINDOW_MS}`,
            String(weight),
            rpm == null || current.left >= 1 ? '' : String(rpm),
            String(LEASE_FRACTION),
            1,
          ),
        );
      });
      if (!reply) continue;
      const [granted, current, previous, tokensCurrent, tokensPrevious] = reply.map(Number) as number[];
      const after = this.#local(keyId, now);
      if (after.minute === minute) {
        after.left += granted ?? 0;
        after.tokens = { minute, current: tokensCurrent ?? 0, previous: tokensPrevious ?? 0, at: Date.now() };
      }
      if (rpm != null && granted === 0 && after.left < 1) {
        if (reclaims < RECLAIM_WAITS_MS.length) {
          // Other instances may hold requests of this minute they will not use: ask for them.
          this.link.reclaim(`rate:${keyId}`);
          await new Promise((resolve) => setTimeout(resolve, RECLAIM_WAITS_MS[reclaims++]));
          continue;
        }
        return {
          ok: false,
          retryAfterSeconds: secondsUntilBelow(previous ?? 0, current ?? 0, elapsed, rpm),
          reason: `${rpm} requests per minute`,
        };
      }
      if (tpm != null && rpm == null) {
        // Only the token counts were needed: decide on them now.
        const refused = this.#tokensRefusal(after, tpm, now);
        return refused ?? { ok: true };
      }
    }
  }

  /** Takes a concurrency slot from this instance's lease, growing it (or reclaiming) when it is used up. */
  async #takeSlot(keyId: string, maxParallel: number, now: number): Promise<boolean> {
    let reclaims = 0;
    for (;;) {
      const local = this.#local(keyId, now);
      if (local.inFlight < local.slots) {
        local.inFlight += 1;
        return true;
      }
      const reply = await this.#serial(`slot:${keyId}`, () => {
        const current = this.#local(keyId, now);
        if (current.inFlight < current.slots) return undefined;
        return this.link.run((redis) =>
          redis.slotAcquire(
            `tg:slots:${keyId}`,
            `tg:slotsx:${keyId}`,
            this.link.instance,
            LEASE_TTL_MS,
            maxParallel,
            String(LEASE_FRACTION),
          ),
        );
      });
      if (reply === undefined) continue;
      const granted = Number(reply);
      this.#local(keyId, now).slots += granted;
      if (granted > 0) continue;
      if (reclaims >= RECLAIM_WAITS_MS.length) return false;
      // Other instances may hold slots no request of theirs uses: ask for them back.
      this.link.reclaim(`rate:${keyId}`);
      await new Promise((resolve) => setTimeout(resolve, RECLAIM_WAITS_MS[reclaims++]));
    }
  }

  /**
   * Redis calls for one key go one at a time, and each first looks (in `call`, which returns
   * undefined then) whether an earlier one already brought enough: a burst on one instance takes
   * one lease at a time, not one per request, and leaves no more unused than one slice.
   */
  #serial<T>(queue: string, call: () => Promise<T> | undefined): Promise<T | undefined> {
    const previous = this.#queues.get(queue);
    const next = previous ? previous.then(call, call) : Promise.resolve().then(call);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(queue, settled);
    void settled.then(() => {
      if (this.#queues.get(queue) === settled) this.#queues.delete(queue);
    });
    return next;
  }

  #freeSlot(keyId: string, now: number): void {
    const local = this.#local(keyId, now);
    if (local.inFlight > 0) local.inFlight -= 1;
  }

  finish(keyId: string, tokens: number, now: number): void {
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
      throw new RateAmountError(`rate limiter: tokens must be a finite count of at least 0, not ${String(tokens)}`);
    }
    const local = this.#local(keyId, now);
    if (local.degraded > 0) {
      local.degraded -= 1;
      this.#fallback.finish(keyId, tokens, now);
    } else if (local.inFlight > 0) {
      local.inFlight -= 1;
    }
    if (tokens > 0) local.tokensUnsynced += tokens;
    if (tokens > 0 || local.reclaim) this.#scheduleSync(local.reclaim ? 0 : SYNC_DELAY_MS);
  }

  #scheduleSync(delay: number): void {
    if (this.#syncTimer) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.#syncAll(false);
    }, delay);
    this.#syncTimer.unref();
  }

  async #syncAll(heartbeat: boolean): Promise<void> {
    const at = Date.now();
    const work: Promise<unknown>[] = [];
    for (const [keyId, local] of this.#keys) {
      this.#local(keyId, at); // rolls a past minute's unused requests into giveBack
      const idle = local.reclaim || at - local.lastUsed > IDLE_RETURN_MS;
      if (local.left > 0 && idle) {
        local.giveBack.push({ minute: local.minute, count: local.left });
        local.left = 0;
      }
      local.reclaim = false;
      const released = idle ? local.slots - local.inFlight : 0;
      const giveBack = local.giveBack.splice(0);
      const tokens = local.tokensUnsynced;
      local.tokensUnsynced = 0;
      const minute = local.minute;
      for (const back of giveBack) {
        work.push(
          this.link
            .run((redis) =>
              redis.rateSync(`tg:rpm:${keyId}:${back.minute}`, `tg:tpm:${keyId}:${back.minute}`, back.count, 0),
            )
            .catch(() => {}),
        );
      }
      if (tokens > 0) {
        // Counted in the minute they were reported, and in this instance's view at once.
        if (local.tokens.minute === minute) local.tokens.current += tokens;
        work.push(
          this.link
            .run((redis) => redis.rateSync(`tg:rpm:${keyId}:${minute}`, `tg:tpm:${keyId}:${minute}`, 0, tokens))
            .catch(() => {
              local.tokensUnsynced += tokens;
              if (local.tokens.minute === minute) local.tokens.current -= tokens;
            }),
        );
      }
      if (released > 0 || (heartbeat && local.slots > 0)) {
        local.slots -= released;
        work.push(
          this.link
            .run((redis) =>
              redis.slotSync(
                `tg:slots:${keyId}`,
                `tg:slotsx:${keyId}`,
                this.link.instance,
                LEASE_TTL_MS,
                released,
                local.slots,
              ),
            )
            .catch(() => {
              local.slots += released;
            }),
        );
      }
      if (heartbeat && local.slots === 0 && local.inFlight === 0 && local.left === 0 && at - local.lastUsed > 120_000) {
        this.#keys.delete(keyId);
      }
    }
    await Promise.all(work);
  }

  /** Gives back what this instance holds (at shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#syncTimer);
    for (const local of this.#keys.values()) local.reclaim = true;
    await this.#syncAll(false).catch(() => {});
  }
}
