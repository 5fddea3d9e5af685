import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';

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
];

/** JSON logs with secrets redacted. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
