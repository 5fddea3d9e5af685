/** What changed: the kind of object and its id (or another reference the kind defines). */
export interface Change {
  kind: 'key' | 'key-created' | 'model' | 'credential' | 'project' | 'user' | 'org';
  ref: string;
}
/** A cache's reaction to a change; a returned promise settles when the cache is fresh again. */
type Listener = (change: Change) => void | Promise<void>;

/**
 * Tells every gateway instance that a cached object changed. The control plane publishes;
 * caches subscribe. `LocalInvalidation` serves one process; instances sharing a PostgreSQL
 * database are reached through the `changes` table and a push channel on top of it
 * (`ChangeFeed`: Redis pub/sub, or PostgreSQL's LISTEN/NOTIFY without Redis).
 */
export interface Invalidation {
  publish(change: Change): Promise<void>;
  subscribe(listener: Listener): void;
  close(): Promise<void>;
}

export class LocalInvalidation implements Invalidation {
  protected readonly listeners: Listener[] = [];
  /** Resolves once this instance's caches have taken the change in (read your own writes). */
  async publish(change: Change): Promise<void> {
    await this.emit(change);
  }
  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }
  protected async emit(change: Change): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(change)));
  }
  async close(): Promise<void> {}
}
