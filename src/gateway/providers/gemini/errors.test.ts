import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorMessage, isCredentialError, retryAfter } from './errors.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/gemini/${name}`, import.meta.url));
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const overloaded = {
  error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
};

describe('errorMessage', () => {
  it("reads Google's message from its error envelope", () => {
    expect(errorMessage(fixture('error-api-key-invalid.json'))).toBe('API key not valid. Please pass a valid API key.');
    expect(errorMessage(bytes(overloaded))).toBe('The model is overloaded. Please try again later.');
  });

  it('reads the array-wrapped envelope of a non-SSE stream, and gives up on anything else', () => {
    expect(errorMessage(bytes([overloaded]))).toBe('The model is overloaded. Please try again later.');
    expect(errorMessage(bytes('<html>502 Bad Gateway</html>'))).toBeUndefined();
    expect(errorMessage(bytes({ error: { code: 500 } }))).toBeUndefined();
    // Read as every provider's error body is (providers/shared/error-body.ts).
    expect(errorMessage(bytes({ error: 'flat' }))).toBe('flat');
  });
});

describe('isCredentialError', () => {
  it("recognises a wrong key in Google's 400, and a missing one in its 403", () => {
    expect(isCredentialError(400, fixture('error-api-key-invalid.json'))).toBe(true);
    expect(isCredentialError(403, fixture('error-api-key-missing.json'))).toBe(true);
  });

  it('leaves other 400s to the caller', () => {
    const invalid = {
      error: { code: 400, message: 'Please use a valid role: user, model.', status: 'INVALID_ARGUMENT' },
    };
    expect(isCredentialError(400, bytes(invalid))).toBe(false);
    expect(isCredentialError(503, bytes(overloaded))).toBe(false);
  });
});

describe('retryAfter', () => {
  it("reads the wait from Google's RetryInfo detail, since a 429 has no retry-after header", () => {
    const limited = (retryDelay: string) => ({
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }],
      },
    });
    expect(retryAfter(bytes(limited('7s')))).toBe('7');
    expect(retryAfter(bytes(limited('1.5s')))).toBe('2');
    expect(retryAfter(bytes(overloaded))).toBeUndefined();
  });
});
