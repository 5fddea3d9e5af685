import { asc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { providerCredentials, settings } from '../store/schema.ts';
import type { Vault } from './vault.ts';

const CHECK_KEY = 'master_key_check';

export class MasterKeyRotationError extends Error {
  override name = 'MasterKeyRotationError';
}

export interface RotationResult {
  /** Provider credentials whose data key was re-wrapped. */
  credentials: number;
  /**
   * The database was already under the new key (a previous rotation committed, but its key was
   * not put in place): nothing was changed.
   */
  alreadyRotated: boolean;
}

/**
 * Re-wraps the data key of every provider credential under `next` and records `next`'s check
 * value, in one transaction: either every row moves to the new key, or — if any row cannot be
 * opened with the current key — nothing changes. Only the wrapped data keys change; the sealed
 * secrets, their data keys and their plaintext do not.
 *
 * Readers are not blocked: until the commit every row is valid under the current key, and
 * running instances keep the credentials they decrypted at start-up in memory. After the commit
 * an instance needs the new key to start (the check value no longer matches the old one).
 * No change is published on purpose: an instance still holding the old key must not reload
 * credentials it can no longer decrypt.
 */
export async function rotateMasterKey(db: Db, current: Vault, next: Vault): Promise<RotationResult> {
  const currentCheck = current.checkValue();
  const nextCheck = next.checkValue();
  if (currentCheck === nextCheck) {
    throw new MasterKeyRotationError('the new master key is the current master key; nothing to rotate');
  }
  return db.transaction(async (tx) => {
    // Locking the check row serialises rotations started at the same time.
    const [check] = await tx.select().from(settings).where(eq(settings.key, CHECK_KEY)).for('update');
    if (check?.value === nextCheck) return { credentials: 0, alreadyRotated: true };
    if (check && check.value !== currentCheck) {
      throw new MasterKeyRotationError(
        'the current master key is not the one this database was set up with; nothing was changed',
      );
    }
    const rows = await tx
      .select({
        id: providerCredentials.id,
        name: providerCredentials.name,
        secretCiphertext: providerCredentials.secretCiphertext,
      })
      .from(providerCredentials)
      .orderBy(asc(providerCredentials.createdAt), asc(providerCredentials.id))
      .for('update');
    for (const row of rows) {
      let rewrapped: string;
      try {
        rewrapped = current.rewrap(row.secretCiphertext, row.id, next);
      } catch {
        throw new MasterKeyRotationError(
          `the secret of credential "${row.name}" (${row.id}) cannot be opened with the current master key; ` +
            'rotation aborted and nothing was changed. Fix or delete that credential and run the rotation again.',
        );
      }
      await tx
        .update(providerCredentials)
        .set({ secretCiphertext: rewrapped })
        .where(eq(providerCredentials.id, row.id));
    }
    await tx
      .insert(settings)
      .values({ key: CHECK_KEY, value: nextCheck })
      .onConflictDoUpdate({ target: settings.key, set: { value: nextCheck, updatedAt: new Date() } });
    return { credentials: rows.length, alreadyRotated: false };
  });
}
