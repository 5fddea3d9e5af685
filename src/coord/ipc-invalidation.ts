import type { PrimaryChannel, WorkerHub } from '../cluster/ipc-channel.ts';
import { type Change, LocalInvalidation } from './invalidation.ts';

/**
 * Invalidation between the workers of one `tollgate serve --workers N` on the embedded database
 * (no Redis, no LISTEN/NOTIFY): a change is applied here first (read your own writes), then sent
 * to the primary, which passes it on to every other worker at once.
 */
export class IpcInvalidation extends LocalInvalidation {
  constructor(private readonly channel: PrimaryChannel) {
    super();
    // A cache whose reload fails says so itself (their error callbacks); the next change retries.
    channel.on('invalidate', (change) => void this.emit(change as Change).catch(() => {}));
  }

  override async publish(change: Change): Promise<void> {
    await this.emit(change);
    this.channel.notify('invalidate', change);
  }
}

/** The primary's side: a change one worker published goes to all the others. */
export function relayInvalidation(hub: WorkerHub): void {
  hub.handle('invalidate', (change, worker) => hub.broadcast('invalidate', change, worker));
}
