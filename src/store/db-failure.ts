/** SQLSTATE classes of a failure that says nothing about the records: connection, resources, operator, system. */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58', 'XX']);
const SQLSTATE = /^(?:[0-9]{2}|HV|P0|F0|XX)[0-9A-Z]{3}$/;
/** The driver's and the system's codes for a connection that could not be made, broke or timed out. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * What a failed write says about its batch:
 * - `refused`: the server refused what the batch holds (a data error, a constraint, a
 *   permission; an error with its SQLSTATE). It was rolled back.
 * - `unreachable`: the connection could not be made, broke or timed out (the driver's and the
 *   system's connection codes), or the server is in trouble (SQLSTATE classes 08, 40, 53, 57,
 *   58, XX). A write may or may not have been committed.
 * - `unknown`: anything else (e.g. an error thrown before anything was sent): the caller asks
 *   the database whether it answers.
 */
export function failureKind(error: unknown): 'refused' | 'unreachable' | 'unknown' {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code))
      return TRANSIENT_CLASSES.has(code.slice(0, 2)) ? 'unreachable' : 'refused';
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return 'unreachable';
    current = (current as { cause?: unknown }).cause;
  }
  return 'unknown';
}

/** A short name for an error, for log throttling and messages: its code, or its class. */
export function errorKind(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code).slice(0, 32);
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.name.slice(0, 32) : 'unknown';
}
