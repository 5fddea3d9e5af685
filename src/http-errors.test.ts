import type { FastifyRequest } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { TollgateError } from './errors.ts';
import { toTollgateError } from './http-errors.ts';

function request() {
  const warn = vi.fn();
  return { request: { id: 'req_1', headers: {}, log: { warn } } as unknown as FastifyRequest, warn };
}

function stackOverflow(): Error {
  const recurse = (depth: number): number => recurse(depth + 1) + 1;
  try {
    recurse(0);
  } catch (error) {
    return error as Error;
  }
  throw new Error('no overflow');
}

describe('toTollgateError', () => {
  it('keeps a Tollgate error as it is', () => {
    const error = new TollgateError('TG_ERR_MODEL_NOT_FOUND', 'x');
    expect(toTollgateError(error, request().request, 1024)).toBe(error);
  });

  it('gives an engine error while parsing the body a generic 400, and logs the original', () => {
    const overflow = Object.assign(stackOverflow(), { statusCode: 400 });
    const { request: req, warn } = request();
    const failure = toTollgateError(overflow, req, 1024);
    expect(failure).toMatchObject({ code: 'TG_ERR_INVALID_JSON', status: 400 });
    expect(failure.message).not.toMatch(/stack|RangeError/i);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ err: overflow, requestId: 'req_1' }),
      expect.any(String),
    );
  });

  it('gives any other error a generic 500 that quotes only the request id', () => {
    const limited = Object.assign(new Error('Rate limit exceeded, retry in 1 minute'), { statusCode: 429 });
    expect(toTollgateError(limited, request().request, 1024)).toMatchObject({ code: 'TG_ERR_INTERNAL' });
    for (const error of [
      stackOverflow(),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new Error('secret'),
    ]) {
      const failure = toTollgateError(error, request().request, 1024);
      expect(failure).toMatchObject({ code: 'TG_ERR_INTERNAL', status: 500 });
      expect(failure.message).toBe('Internal error; quote request id req_1 when reporting it');
    }
  });

  it("passes Fastify's own client errors and the JSON parser's syntax errors through", () => {
    const length = Object.assign(new Error('Request body size did not match Content-Length'), {
      code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
      statusCode: 400,
    });
    expect(toTollgateError(length, request().request, 1024)).toMatchObject({
      code: 'TG_ERR_INVALID_REQUEST',
      message: 'Invalid request: Request body size did not match Content-Length',
    });
    const syntax = Object.assign(new SyntaxError('Unexpected token } in JSON at position 5'), { statusCode: 400 });
    expect(toTollgateError(syntax, request().request, 1024)).toMatchObject({ code: 'TG_ERR_INVALID_JSON' });
  });
});
