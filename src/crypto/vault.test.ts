import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskSecret, Vault } from './vault.ts';

describe('credential vault', () => {
  const vault = new Vault(randomBytes(32));

  it('round-trips a secret without storing it in plaintext', () => {
    const stored = vault.encrypt({ apiKey: 'sk-live-very-secret-123' }, 'cred-1');
    expect(stored).not.toContain('very-secret');
    expect(Buffer.from(stored).toString('base64')).not.toContain('very-secret');
    expect(vault.decrypt(stored, 'cred-1')).toEqual({ apiKey: 'sk-live-very-secret-123' });
  });

  it('uses a fresh data key each time, so equal secrets do not look equal', () => {
    expect(vault.encrypt('same', 'a')).not.toBe(vault.encrypt('same', 'a'));
  });

  it('refuses a ciphertext moved onto another record', () => {
    const stored = vault.encrypt({ apiKey: 'x' }, 'cred-1');
    expect(() => vault.decrypt(stored, 'cred-2')).toThrow(/cannot decrypt/);
  });

  it('refuses a tampered ciphertext and a wrong master key', () => {
    const stored = vault.encrypt({ apiKey: 'x' }, 'cred-1');
    const flipped = `${stored.slice(0, -3)}${stored.at(-3) === 'A' ? 'B' : 'A'}${stored.slice(-2)}`;
    expect(() => vault.decrypt(flipped, 'cred-1')).toThrow(/cannot decrypt/);
    expect(() => new Vault(randomBytes(32)).decrypt(stored, 'cred-1')).toThrow(/cannot decrypt/);
  });

  it('re-wraps under a new master key', () => {
    const next = new Vault(randomBytes(32));
    const stored = vault.encrypt({ apiKey: 'k' }, 'c');
    const rewrapped = vault.rewrap(stored, 'c', next);
    expect(next.decrypt(rewrapped, 'c')).toEqual({ apiKey: 'k' });
    expect(() => vault.decrypt(rewrapped, 'c')).toThrow();
  });

  it('masks secrets to a recognisable tail', () => {
    expect(maskSecret('sk-proj-abcdefghijkl1234')).toBe('sk-••••1234');
    expect(maskSecret('short')).toBe('••••');
  });
});
