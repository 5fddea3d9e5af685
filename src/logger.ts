import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { safeMessage, serializeError } from './safe-error.ts';

/** Header and field paths that can hold a secret; pino replaces their values. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.apiKey',
  '*.key',
  '*.secrets',
  '*.fields',
  '*.password',
  '*.token',
  // Columns holding a secret or a value derived from one (see SECRET_COLUMNS in store/schema.ts).
  '*.passwordHash',
  '*.password_hash',
  '*.keyHash',
  '*.key_hash',
  '*.previousKeyHash',
  '*.previous_key_hash',
  '*.tokenHash',
  '*.token_hash',
  '*.secretCiphertext',
  '*.secret_ciphertext',
  '*.csrfToken',
  '*.csrf_token',
  // Query parameters of database errors carry whatever was written.
  'params',
  'parameters',
  '*.params',
  '*.parameters',
];

/**
 * JSON logs with secrets redacted. Errors are serialized by `serializeError`: named fields and
 * bounded messages only, never a database error's query parameters or detail.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        // `logger.error(error)` would make the raw message (drizzle's holds the query's
        // parameters) the line's `msg`; give it the safe message instead.
        logMethod(args, method) {
          const [first, second, ...rest] = args as unknown[];
          if (first instanceof Error && typeof second !== 'string') {
            return method.apply(this, [
              { err: first },
              safeMessage(first),
              ...(second === undefined ? [] : [second]),
              ...rest,
            ] as Parameters<typeof method>);
          }
          return method.apply(this, args);
        },
      },
    },
    destination,
  );
}
