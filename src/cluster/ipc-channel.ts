import type { Worker } from 'node:cluster';

/**
 * Calls and notices between the primary of `tollgate serve --workers N` and its workers, over the
 * IPC channel node:cluster opens (structured-clone serialisation, set in primary.ts, so rows keep
 * their bigints, byte arrays and dates). A worker calls the primary (`call`, answered by request
 * id) or tells it something (`notify`); the primary answers calls (`WorkerHub.handle`) and pushes
 * to workers (`broadcast`).
 */
type Message =
  | { tg: 'call'; id: number; kind: string; payload: unknown }
  | { tg: 'reply'; id: number; ok: true; value: unknown }
  | { tg: 'reply'; id: number; ok: false; error: ErrorShape }
  | { tg: 'push'; kind: string; payload: unknown };

/** An error as it crosses the channel: its message and own fields (SQLSTATE `code`, `detail`, …). */
interface ErrorShape {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

const isMessage = (value: unknown): value is Message =>
  typeof value === 'object' && value !== null && typeof (value as { tg?: unknown }).tg === 'string';

function toShape(error: unknown): ErrorShape {
  const source = error instanceof Error ? error : new Error(String(error));
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[name] = value;
  }
  return { name: source.name, message: source.message, fields };
}

function fromShape(shape: ErrorShape): Error {
  const error = Object.assign(new Error(shape.message), shape.fields);
  error.name = shape.name;
  return error;
}

/** The primary has gone (or the channel closed): what every pending and later call rejects with. */
class PrimaryGoneError extends Error {
  override name = 'PrimaryGoneError';
  // A code, so the usage writer counts it as an unreachable database, not a refused batch.
  readonly code = 'ECONNRESET';
}

/** A worker's end: calls to the primary and the notices it pushes. */
export class PrimaryChannel {
  static #instance: PrimaryChannel | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #handlers = new Map<string, Array<(payload: unknown) => void>>();
  #gone = false;

  private constructor() {
    process.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.tg === 'reply') {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (!pending) return;
        if (message.ok) pending.resolve(message.value);
        else pending.reject(fromShape(message.error));
      } else if (message.tg === 'push') {
        for (const handler of this.#handlers.get(message.kind) ?? []) handler(message.payload);
      }
    });
    process.once('disconnect', () => {
      this.#gone = true;
      for (const pending of this.#pending.values()) pending.reject(new PrimaryGoneError('the primary process is gone'));
      this.#pending.clear();
    });
  }

  /** The channel of this worker process (one per process: it listens on `process`). */
  static get(): PrimaryChannel {
    if (!process.send) throw new Error('not a worker of tollgate serve --workers');
    PrimaryChannel.#instance ??= new PrimaryChannel();
    return PrimaryChannel.#instance;
  }

  call<T>(kind: string, payload?: unknown): Promise<T> {
    if (this.#gone || !process.connected) return Promise.reject(new PrimaryGoneError('the primary process is gone'));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      process.send?.({ tg: 'call', id, kind, payload } satisfies Message, undefined, undefined, (error) => {
        if (error && this.#pending.delete(id)) reject(error);
      });
    });
  }

  notify(kind: string, payload?: unknown): void {
    if (this.#gone || !process.connected) return;
    // A notice is sent with a call id of 0: the primary does not answer it.
    process.send?.({ tg: 'call', id: 0, kind, payload } satisfies Message, undefined, undefined, () => {});
  }

  on(kind: string, handler: (payload: unknown) => void): void {
    const handlers = this.#handlers.get(kind) ?? [];
    handlers.push(handler);
    this.#handlers.set(kind, handlers);
  }
}

type Handler = (payload: unknown, worker: Worker) => unknown;

/** The primary's end: answers its workers' calls and pushes notices to them. */
export class WorkerHub {
  readonly #handlers = new Map<string, Handler>();
  readonly #workers = new Set<Worker>();
  readonly #departures: Array<(worker: Worker) => void> = [];

  handle(kind: string, handler: Handler): void {
    this.#handlers.set(kind, handler);
  }

  /** Called with each worker that exits, so what it held open can be let go. */
  onDeparture(handler: (worker: Worker) => void): void {
    this.#departures.push(handler);
  }

  attach(worker: Worker): void {
    this.#workers.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isMessage(message) || message.tg !== 'call') return;
      void this.#answer(worker, message.id, message.kind, message.payload);
    });
    worker.once('exit', () => {
      this.#workers.delete(worker);
      for (const handler of this.#departures) handler(worker);
    });
  }

  async #answer(worker: Worker, id: number, kind: string, payload: unknown): Promise<void> {
    let reply: Message;
    try {
      const handler = this.#handlers.get(kind);
      if (!handler) throw new Error(`the primary does not serve ${kind}`);
      reply = { tg: 'reply', id, ok: true, value: await handler(payload, worker) };
    } catch (error) {
      reply = { tg: 'reply', id, ok: false, error: toShape(error) };
    }
    if (id !== 0 && worker.isConnected()) worker.send(reply, undefined, () => {});
  }

  /** Sends a notice to every worker but `except`. */
  broadcast(kind: string, payload: unknown, except?: Worker): void {
    const message: Message = { tg: 'push', kind, payload };
    for (const worker of this.#workers) {
      if (worker !== except && worker.isConnected()) worker.send(message, undefined, () => {});
    }
  }
}
