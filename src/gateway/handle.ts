import type { FastifyReply, FastifyRequest } from 'fastify';
import { TollgateError } from '../errors.ts';
import type { GatewayContext } from './context.ts';
import { Exchange } from './exchange.ts';

/**
 * Wraps a data-plane handler so that every request that got past authentication leaves exactly
 * one usage record, refusals and provider failures included. The error itself is rendered by
 * the app's error handler in the caller's dialect.
 */
export function handle(
  ctx: GatewayContext,
  endpoint: string,
  handler: (exchange: Exchange, request: FastifyRequest, reply: FastifyReply) => Promise<void>,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const exchange = new Exchange(request, endpoint, ctx);
    try {
      await handler(exchange, request, reply);
    } catch (error) {
      if (error instanceof TollgateError) exchange.finish(error.status, undefined, error.code);
      else exchange.finish(500, undefined, 'TG_ERR_INTERNAL');
      throw error;
    }
  };
}
