import { Type } from 'typebox';

/**
 * Bounds shared by the admin API's schemas. Every number a request can carry has a maximum and
 * every string a maximum length, so that no value reaches the database or a computation out of
 * range (an integer column overflowing, a date past what PostgreSQL stores): such requests get
 * 400 with the field named, not 500.
 */

/** USD amounts of limits: far above any real budget, far below where doubles stop counting cents. */
export const MAX_USD = 1_000_000_000;
/** USD per million tokens. */
export const MAX_PRICE = 1_000_000;
/** Counts stored in integer columns (key limits, tokens) stay well inside 32 bits. */
export const MAX_COUNT = 1_000_000_000;

export const Usd = () => Type.Number({ minimum: 0, maximum: MAX_USD });

/** An id or a name naming an object in a path, a query or a body. */
export const Ref = (description?: string) =>
  Type.String({ minLength: 1, maxLength: 320, ...(description && { description }) });
export const RefParams = Type.Object({ ref: Ref('Id or name') });
