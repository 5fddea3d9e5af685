import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_AMOUNT_USD, type Reservation } from '../coord/spend-ledger.ts';
import type { ErrorCode } from '../errors.ts';
import type { UsageRow } from '../store/schema.ts';
import type { GatewayContext } from './context.ts';
import { type RequestFinishedEvent, requestFinished } from './diagnostics.ts';
import { cacheWrites, costOf, type Usage, wellFormedUsage } from './metering/cost.ts';
import type { KeyEntry } from './policy/key-cache.ts';
import type { PublishedModel, Target } from './routing/model-registry.ts';

/**
 * One request's passage through the gateway: who called, which model and target served it,
 * when the first byte went out. `finish` turns it into exactly one usage record.
 */
export class Exchange {
  readonly started = performance.now();
  readonly time: Date;
  key: KeyEntry | undefined;
  /** The `model` the caller asked for, kept even when no such model exists. */
  requestedModel: string | undefined;
  model: PublishedModel | undefined;
  /** The model's targets this key may use, in configured order. */
  targets: Target[] = [];
  /** The target being tried, and in the end the one that served. */
  target: Target | undefined;
  streamed = false;
  firstByteAt: number | undefined;
  /** Budget held for this request on every limited scope; settled or released by `finish`. */
  reservation: Reservation | undefined;
  /** Whether the rate limiter counted this request (and holds a concurrency slot for it). */
  rateAdmitted = false;
  /** The output cap Tollgate set because the budget could not pay for more. */
  grantedMaxTokens: number | undefined;
  #finished = false;
  /** Aborted when the caller goes away, so the provider call stops too. */
  readonly abort = new AbortController();

  constructor(
    readonly request: FastifyRequest,
    readonly endpoint: string,
    private readonly ctx: GatewayContext,
  ) {
    this.time = new Date(ctx.clock());
  }

  /** Aborts the provider call if the caller disconnects before the response is complete. */
  watchDisconnect(reply: FastifyReply): void {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) this.abort.abort();
    });
  }

  costOf(usage: Usage): number {
    return this.model ? costOf(usage, this.model.prices) : 0;
  }

  /**
   * Ends the request: settles its reservation to the actual cost (or, when output went out
   * but the provider reported no usage, to the reserved worst case; with no output, releases
   * it), frees its rate-limit slot and queues its usage record. Runs once.
   */
  finish(status: number, reported?: Usage, errorCode?: ErrorCode | string): void {
    if (this.#finished || !this.key) return;
    this.#finished = true;
    const now = performance.now();
    const usage = reported && wellFormedUsage(reported);
    let cost = usage ? Math.min(this.costOf(usage), MAX_AMOUNT_USD) : 0;
    const reservation = this.reservation;
    if (reservation) {
      // No usage, or a cost that is not an amount: the reserved worst case is charged.
      if ((!usage && this.firstByteAt !== undefined) || !(cost >= 0 && Number.isFinite(cost)))
        cost = reservation.amount;
      if (usage || this.firstByteAt !== undefined) this.ctx.ledger.settle(reservation, cost, this.ctx.clock());
      else this.ctx.ledger.release(reservation);
    }
    if (this.rateAdmitted) {
      const tokens = usage ? usage.promptTokens + usage.completionTokens : 0;
      this.ctx.limiter.finish(this.key.id, tokens, this.ctx.clock());
    }
    const record: UsageRow = {
      time: this.time,
      requestId: this.request.id,
      orgId: this.key.orgId,
      projectId: this.key.projectId,
      keyId: this.key.id,
      keyName: this.key.name,
      userId: this.key.ownerUserId,
      endpoint: this.endpoint,
      model: this.model?.name ?? this.requestedModel ?? null,
      provider: this.target?.provider ?? null,
      upstreamModel: this.target?.upstreamModel ?? null,
      credentialId: this.target?.credential.id ?? null,
      status,
      errorCode: errorCode ?? null,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      cachedTokens: usage?.cachedTokens ?? 0,
      cacheWriteTokens: usage ? cacheWrites(usage) : 0,
      cacheWrite1hTokens: usage?.cacheWrite1hTokens ?? 0,
      reasoningTokens: usage?.reasoningTokens ?? 0,
      // No source when nothing was used (refused, or failed before any usage).
      usageSource: usage && usage.promptTokens + usage.completionTokens > 0 ? (usage.source ?? 'reported') : null,
      costUsd: cost,
      latencyMs: now - this.started,
      ttftMs: this.firstByteAt === undefined ? null : this.firstByteAt - this.started,
      streamed: this.streamed,
    };
    this.ctx.usage.record(record);
    if (requestFinished.hasSubscribers) requestFinished.publish({ record } satisfies RequestFinishedEvent);
  }
}
