import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

// ajv-formats is CommonJS: under ESM its function may sit on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * Request validation for the admin API. Querystrings and path parameters arrive as text, so
 * their validator converts types ("100" → 100); bodies are JSON and already typed, so theirs
 * does not — a converting validator would read `null` as 0 and `0` as null, and "remove this
 * limit" and "a limit of $0" must not be confused.
 */
export function applyStrictBodyValidation(app: FastifyInstance): void {
  const options = { strict: false, useDefaults: true, allErrors: false } as const;
  const strict = addFormats(new Ajv({ ...options, coerceTypes: false }));
  const converting = addFormats(new Ajv({ ...options, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : converting).compile(schema as FastifySchema & object),
  );
}
