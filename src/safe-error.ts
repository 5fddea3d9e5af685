/**
 * Errors as they may be logged or stored: what went wrong, never the values involved.
 * Database drivers put the query's parameters on their errors (`params`, `parameters`), in the
 * message (drizzle's "Failed query: … params: …") and in `detail`/`where` ("Key (token_hash)=(…)
 * already exists"); a failed insert would log a password hash or a whole usage batch. Only named,
 * value-free fields are kept, and every string is bounded.
 */

const MAX_MESSAGE = 500;
const MAX_FRAMES = 12;
const MAX_DEPTH = 3;
/** Fields that name things (codes, tables, constraints), never hold the values written. */
const SAFE_FIELDS = [
  'code',
  'errno',
  'syscall',
  'severity',
  'routine',
  'schema',
  'table',
  'column',
  'constraint',
  'dataType',
  'status',
  'statusCode',
  'variable',
];

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** The message without any query parameters drizzle appends, bounded. */
export function safeMessage(error: { message?: unknown }): string {
  const message = typeof error.message === 'string' ? error.message : String(error.message ?? '');
  const paramsAt = message.search(/\n\s*params:/);
  return truncate(paramsAt >= 0 ? message.slice(0, paramsAt) : message, MAX_MESSAGE);
}

function frames(stack: unknown): string {
  if (typeof stack !== 'string') return '';
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_FRAMES)
    .map((line) => truncate(line, 300))
    .join('\n');
}

/** pino's `err` serializer: type, safe message, named fields, stack frames, causes. */
export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) {
    if (typeof error === 'object' && error !== null && 'message' in error) {
      return serializeError(Object.assign(new Error(), { message: safeMessage(error), name: 'Object' }), depth);
    }
    return { type: typeof error, message: truncate(String(error), MAX_MESSAGE) };
  }
  const type = error.constructor?.name && error.constructor.name !== 'Error' ? error.constructor.name : error.name;
  const message = safeMessage(error);
  const out: Record<string, unknown> = { type, message };
  const fields = error as unknown as Record<string, unknown>;
  for (const field of SAFE_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') out[field] = truncate(value, 200);
    else if (typeof value === 'number' || typeof value === 'boolean') out[field] = value;
  }
  const stack = frames(error.stack);
  out.stack = stack ? `${type}: ${message}\n${stack}` : `${type}: ${message}`;
  if (error.cause !== undefined && depth < MAX_DEPTH) out.cause = serializeError(error.cause, depth + 1);
  if (error instanceof AggregateError && depth < MAX_DEPTH) {
    out.errors = error.errors.slice(0, 3).map((inner) => serializeError(inner, depth + 1));
  }
  return out;
}

/** One line saying why a database refused something: the driver's code and message, bounded. */
export function errorReason(error: unknown): string {
  let innermost: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const cause = (innermost as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    innermost = cause;
  }
  if (typeof innermost !== 'object' || innermost === null) return truncate(String(innermost), MAX_MESSAGE);
  const code = (innermost as { code?: unknown }).code;
  const message = safeMessage(innermost as { message?: unknown });
  return typeof code === 'string' || typeof code === 'number' ? `${code}: ${message}` : message;
}
