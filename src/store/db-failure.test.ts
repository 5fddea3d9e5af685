import { describe, expect, it } from 'vitest';
import { errorKind, failureKind } from './db-failure.ts';

const coded = (code: string, cause?: unknown) => Object.assign(new Error(code), { code }, cause ? { cause } : {});
/** drizzle wraps driver errors; the code is on the cause. */
const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: insert …'), { cause });

describe('failureKind', () => {
  it('takes a data error, a constraint or a permission from the server for a refusal', () => {
    for (const code of ['22P02', '22003', '23502', '42501', '42P01'])
      expect(failureKind(wrapped(coded(code)))).toBe('refused');
  });

  it('takes a broken, refused or timed-out connection, or a server in trouble, for an unreachable database', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT', 'ENOTFOUND'])
      expect(failureKind(wrapped(coded(code)))).toBe('unreachable');
    // connection exception, deadlock, too many connections, admin shutdown, I/O error, internal error
    for (const code of ['08006', '40P01', '53300', '57P01', '58030', 'XX000'])
      expect(failureKind(wrapped(coded(code)))).toBe('unreachable');
  });

  it('leaves anything else to a probe: errors without a code, and codes that are not about the connection', () => {
    expect(failureKind(new RangeError('Invalid time value'))).toBe('unknown');
    expect(failureKind(coded('ERR_INVALID_ARG_TYPE'))).toBe('unknown');
    // EPIPE is a connection code, not a SQLSTATE, though it has five capitals.
    expect(failureKind(coded('EPIPE'))).toBe('unreachable');
  });
});

describe('errorKind', () => {
  it('names an error by its code, or its class', () => {
    expect(errorKind(wrapped(coded('ECONNRESET')))).toBe('ECONNRESET');
    expect(errorKind(new TypeError('x'))).toBe('TypeError');
    expect(errorKind('a string')).toBe('unknown');
  });
});
