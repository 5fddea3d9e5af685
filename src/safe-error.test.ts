import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { errorReason, serializeError } from './safe-error.ts';

const SECRET = 'scrypt$16384$8$1$c2FsdA$c2VjcmV0LWhhc2gtdmFsdWU';

function driverError(): Error {
  // The fields PostgreSQL drivers put on an error: several of them carry the values written.
  return Object.assign(new Error('duplicate key value violates unique constraint "users_email_unique"'), {
    code: '23505',
    severity: 'ERROR',
    table: 'users',
    constraint: 'users_email_unique',
    detail: `Key (password_hash)=(${SECRET}) already exists.`,
    where: `JSON data, line 1: {"password_hash": "${SECRET}"`,
    parameters: [SECRET],
    params: [SECRET],
    query: `insert into users values ('${SECRET}')`,
  });
}

describe('serializeError', () => {
  it("keeps what went wrong and drops every value: drizzle's params, the driver's detail, where, parameters and query", () => {
    const error = new DrizzleQueryError('insert into "users" ("password_hash") values ($1)', [SECRET], driverError());
    const text = JSON.stringify(serializeError(error));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('c2VjcmV0');
    expect(text).toContain('23505');
    expect(text).toContain('users_email_unique');
    expect(text).toContain('insert into \\"users\\"');
  });

  it('bounds messages and stacks', () => {
    const huge = new Error(`model ${'x'.repeat(1_000_000)}`);
    expect(JSON.stringify(serializeError(huge)).length).toBeLessThan(4000);
  });

  it('says why in one bounded line, from the driver', () => {
    const error = new DrizzleQueryError('insert …', [SECRET], driverError());
    expect(errorReason(error)).toBe('23505: duplicate key value violates unique constraint "users_email_unique"');
  });
});
