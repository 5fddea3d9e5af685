import type { FastifyReply } from 'fastify';
import { TollgateError } from '../errors.ts';
import type { Exchange } from './exchange.ts';

/**
 * The caller's side of a stream: takes over the raw response, writes the event-stream head,
 * then events as they come with backpressure, and ends it — with an error event when the
 * stream broke after the head was sent and the status can no longer say so.
 */
export class SseResponse {
  readonly #raw: FastifyReply['raw'];

  constructor(
    reply: FastifyReply,
    private readonly exchange: Exchange,
  ) {
    reply.hijack();
    this.#raw = reply.raw;
    if (exchange.grantedMaxTokens !== undefined) {
      this.#raw.setHeader('x-tollgate-max-tokens', String(exchange.grantedMaxTokens));
    }
    this.#raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
  }

  /** Writes one event; waits while the caller's buffer is full; fails once the caller is gone. */
  async write(text: string): Promise<void> {
    const raw = this.#raw;
    if (raw.destroyed) throw new TollgateError('TG_ERR_CLIENT_CLOSED');
    this.exchange.firstByteAt ??= performance.now();
    if (raw.write(text)) return;
    // A caller that disconnects while its buffer is full never drains: wait for either.
    await new Promise<void>((resolve) => {
      const done = () => {
        raw.off('drain', done);
        raw.off('close', done);
        resolve();
      };
      raw.on('drain', done);
      raw.on('close', done);
    });
    if (raw.destroyed) throw new TollgateError('TG_ERR_CLIENT_CLOSED');
  }

  /**
   * Ends a stream that broke: one last event in the door's format, then close. An error event
   * from the provider (its decoder throws a `…StreamError`) is a provider error; a stream that
   * broke off is an unreachable provider.
   */
  fail(error: unknown, provider: string, door: { streamError(error: TollgateError): string }): TollgateError {
    const failure =
      error instanceof TollgateError
        ? error
        : error instanceof Error && error.name.endsWith('StreamError')
          ? new TollgateError('TG_ERR_PROVIDER_ERROR', provider, 200, `an error event: ${error.message.slice(0, 300)}`)
          : new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', provider, 'stream interrupted');
    if (!this.#raw.destroyed) this.#raw.write(door.streamError(failure));
    return failure;
  }

  end(): void {
    this.#raw.end();
  }
}
