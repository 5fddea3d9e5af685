import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { TollgateError } from '../errors.ts';

// ajv-formats is CommonJS: under ESM its function may sit on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

const OPTIONS = { strict: false, useDefaults: true, allErrors: false } as const;

/**
 * The validator of admin API bodies: no type conversion. Declarative files (src/declarative/)
 * are checked with it too, so a file is held to exactly what the API would accept; `allErrors`
 * lists every problem rather than the first and `verbose` says more of each, accepting nothing more.
 */
export function bodyAjv(options: { allErrors?: boolean; verbose?: boolean } = {}): Ajv {
  return addFormats(new Ajv({ ...OPTIONS, ...options, coerceTypes: false }));
}

/**
 * Request validation for the admin API. Querystrings and path parameters arrive as text, so
 * their validator converts types ("100" → 100); bodies are JSON and already typed, so theirs
 * does not — a converting validator would read `null` as 0 and `0` as null, and "remove this
 * limit" and "a limit of $0" must not be confused. Every route under /api/ also refuses text
 * the database cannot store (see `refuseUnstorableText`).
 */
export function applyStrictBodyValidation(app: FastifyInstance): void {
  const strict = bodyAjv();
  const converting = addFormats(new Ajv({ ...OPTIONS, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : converting).compile(schema as FastifySchema & object),
  );
  refuseUnstorableText(app);
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

/**
 * Where `value` holds text PostgreSQL cannot store — a NUL character (text and jsonb refuse it)
 * or an unpaired UTF-16 surrogate (not encodable as UTF-8) — in a string or an object key: the
 * path to it (`metadata.team`), or undefined. Iterative, so a deeply nested body cannot
 * overflow the stack.
 */
export function unstorableTextAt(value: unknown, root: string): string | undefined {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === 'string') {
      if (unstorable(item)) return path;
    } else if (Array.isArray(item)) {
      for (const [index, child] of item.entries()) stack.push([child, `${path}[${index}]`]);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        const at = path ? `${path}.${key}` : key;
        if (unstorable(key)) return path ? `a key in ${path}` : 'a field name';
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

function checkStorable(request: FastifyRequest): void {
  for (const [part, value] of [
    ['path', request.params],
    ['query', request.query],
    ['body', request.body],
  ] as const) {
    const at = unstorableTextAt(value, '');
    if (at !== undefined) {
      throw new TollgateError(
        'TG_ERR_INVALID_REQUEST',
        `${at ? `"${at}" in the ${part}` : `the ${part}`} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored`,
      );
    }
  }
}

/**
 * One check for every route under /api/ (the admin API, sign-in): no string in the path, the
 * query or the body may hold text the database cannot store. Attached to each route as it is
 * registered, schema or not, so a new route cannot forget it; it runs before schema validation.
 */
function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const existing = route.preValidation;
    const own = async (request: FastifyRequest) => checkStorable(request);
    route.preValidation = existing ? [own, ...(Array.isArray(existing) ? existing : [existing])] : own;
  });
}
