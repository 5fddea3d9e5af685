import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('are stored as salted scrypt hashes that verify only the right password', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery!', stored)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(stored);
  });

  it('refuse accounts without a password and short passwords', async () => {
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(passwordProblem('short')).toMatch(/10 characters/);
    expect(passwordProblem('long enough pass')).toBeUndefined();
  });
});
