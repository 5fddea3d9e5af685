/** SQLSTATE classes of a failure that says nothing about the records: connection, resources, operator, system. */
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58', 'XX']);
const SQLSTATE = /^(?:[0-9]{2}|HV|P0|F0|XX)[0-9A-Z]{3}$/;

/**
 * What a failed write says about its batch:
 * - `refused`: the server refused what the batch holds (a data error, a constraint, a
 *   permission; an error with its SQLSTATE). It was rolled back.
 * - `unreachable`: the connection broke, timed out, or the server is in trouble (SQLSTATE
 *   classes 08, 40, 53, 57, 58, XX; any error with a code of the driver or the system). The
 *   batch may or may not have been committed.
 * - `unknown`: an error without a code (thrown before anything was sent): refused if the
 *   database answers, unreachable if not.
 */
export function failureKind(error: unknown): 'refused' | 'unreachable' | 'unknown' {
  let current: unknown = error;
  let coded = false;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code))
      return TRANSIENT_CLASSES.has(code.slice(0, 2)) ? 'unreachable' : 'refused';
    if (typeof code === 'string' || typeof code === 'number') coded = true;
    current = (current as { cause?: unknown }).cause;
  }
  return coded ? 'unreachable' : 'unknown';
}
