import diagnostics from 'node:diagnostics_channel';
import type { UsageRow } from '../store/schema.ts';

/**
 * The data plane's observable events, published on `node:diagnostics_channel` so that metrics,
 * logs and traces subscribe instead of being called from the hot path. Publishing to a channel
 * without subscribers costs one property check.
 */
export const requestFinished = diagnostics.channel('tollgate:request:finished');

export interface RequestFinishedEvent {
  record: UsageRow;
}
