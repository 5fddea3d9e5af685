import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate.ts';

describe('ConcurrencyGate', () => {
  it('runs at most `limit` tasks at once, queues a few, and refuses the rest at once', async () => {
    const gate = new ConcurrencyGate(2, 1);
    let running = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const task = () =>
      new Promise<string>((resolve) => {
        running++;
        most = Math.max(most, running);
        releases.push(() => {
          running--;
          resolve('done');
        });
      });
    const first = gate.run(task);
    const second = gate.run(task);
    const queued = gate.run(task);
    expect(gate.run(task)).toBeUndefined();
    await Promise.resolve();
    expect(running).toBe(2);
    releases.shift()?.();
    expect(await first).toBe('done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(2);
    releases.shift()?.();
    releases.shift()?.();
    expect(await Promise.all([second, queued])).toEqual(['done', 'done']);
    expect(most).toBe(2);
    expect(gate.run(async () => 'again')).toBeDefined();
  });

  it('frees the slot when a task fails', async () => {
    const gate = new ConcurrencyGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'next')).toBe('next');
  });
});
