import type { FastifyReply } from 'fastify';
import { type Dialect, renderError, TollgateError } from '../errors.ts';
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

  async write(text: string): Promise<void> {
    this.exchange.firstByteAt ??= performance.now();
    if (!this.#raw.write(text)) await new Promise((resolve) => this.#raw.once('drain', resolve));
  }

  /** Ends a stream that broke: one last event in the caller's dialect, then close. */
  fail(error: unknown, provider: string, dialect: Dialect): TollgateError {
    const failure =
      error instanceof TollgateError
        ? error
        : new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', provider, 'stream interrupted');
    if (!this.#raw.destroyed) {
      const body = renderError(failure, dialect);
      this.#raw.write(dialect === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`);
    }
    return failure;
  }

  end(): void {
    this.#raw.end();
  }
}
