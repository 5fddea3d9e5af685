import { DrizzleQueryError } from 'drizzle-orm';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type Dialect, renderError, TollgateError } from './errors.ts';
import { failureKind } from './store/db-failure.ts';

/** The caller's dialect, by front door. */
export function dialectOf(url: string): Dialect {
  return url.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}

/**
 * Any error thrown while serving a request, as the catalogue error the caller should see.
 * Only Tollgate's own errors and Fastify's client errors say what went wrong; anything else
 * (a bug, an engine error such as "Maximum call stack size exceeded") gets a generic message
 * and is logged here with the request id, never shown.
 */
export function toTollgateError(
  error: FastifyError | Error,
  request: FastifyRequest,
  bodyLimit: number,
): TollgateError {
  if (error instanceof TollgateError) return error;
  const fastify = error as FastifyError & { code?: string };
  // drizzle wraps driver errors: the PostgreSQL SQLSTATE is on the cause.
  const sqlState = (error as { cause?: { code?: string } }).cause?.code;
  switch (sqlState ?? fastify.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TollgateError('TG_ERR_BODY_TOO_LARGE', bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TollgateError('TG_ERR_UNSUPPORTED_MEDIA_TYPE', String(request.headers['content-type'] ?? ''));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TollgateError('TG_ERR_INVALID_JSON', 'the body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TollgateError('TG_ERR_INVALID_JSON', fastify.message);
    case '23505':
      return new TollgateError('TG_ERR_CONFLICT', 'An object with that name already exists');
  }
  if (fastify.validation) return new TollgateError('TG_ERR_INVALID_REQUEST', fastify.message);
  const status = fastify.statusCode ?? 0;
  const clientError = status >= 400 && status < 500;
  // Fastify's own client errors (a Content-Length that does not match, …) describe the request.
  if (clientError && fastify.code?.startsWith('FST_'))
    return new TollgateError('TG_ERR_INVALID_REQUEST', fastify.message);
  // The JSON parser's SyntaxError says where the body went wrong.
  if (error instanceof SyntaxError && status === 400) return new TollgateError('TG_ERR_INVALID_JSON', error.message);
  if (status === 400) {
    // Thrown while parsing the body (the JSON parser marks its errors 400), but not a syntax
    // error: e.g. the parser ran out of stack.
    request.log.warn({ err: error, requestId: request.id }, 'request body could not be parsed');
    return new TollgateError('TG_ERR_INVALID_JSON', 'the body could not be parsed');
  }
  // A query that could not reach the database (docs/durability.md): not a bug, say so with a 503.
  if (error instanceof DrizzleQueryError && failureKind(error) === 'unreachable')
    return new TollgateError('TG_ERR_DATABASE_UNAVAILABLE');
  return new TollgateError('TG_ERR_INTERNAL', request.id);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: TollgateError): void {
  if (reply.sent || reply.raw.headersSent) return;
  reply
    .code(error.status)
    .headers(error.headers ?? {})
    .type('application/json; charset=utf-8')
    .send(renderError(error, dialectOf(request.url)));
}
