import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption for provider secrets. Each secret gets its own random 256-bit data key;
 * the secret is sealed with AES-256-GCM under that data key and the data key is sealed with
 * AES-256-GCM under the master key. The owning record's identity is bound in as associated
 * data, so a ciphertext copied onto another row does not decrypt.
 *
 * Stored form (one text column): `v1.<wrapped data key>.<sealed secret>`, both base64url of
 * iv (12) ‖ tag (16) ‖ ciphertext.
 */
const VERSION = 'v1';

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
}

export class VaultError extends Error {
  override name = 'VaultError';
}

export class Vault {
  readonly #masterKey: Buffer;
  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new VaultError('master key must be 32 bytes');
    this.#masterKey = masterKey;
  }

  /** Encrypts a JSON-serialisable secret for the record named by `recordId`. */
  encrypt(secret: unknown, recordId: string): string {
    const dataKey = randomBytes(32);
    const wrapped = seal(this.#masterKey, dataKey, `dek:${recordId}`);
    const sealed = seal(dataKey, Buffer.from(JSON.stringify(secret)), `secret:${recordId}`);
    dataKey.fill(0);
    return `${VERSION}.${wrapped}.${sealed}`;
  }

  decrypt<T = unknown>(stored: string, recordId: string): T {
    const [version, wrapped, sealed] = stored.split('.');
    if (version !== VERSION || !wrapped || !sealed) throw new VaultError('unrecognised ciphertext format');
    try {
      const dataKey = open(this.#masterKey, wrapped, `dek:${recordId}`);
      const plaintext = open(dataKey, sealed, `secret:${recordId}`);
      dataKey.fill(0);
      return JSON.parse(plaintext.toString('utf8')) as T;
    } catch {
      throw new VaultError(`cannot decrypt the secret of ${recordId}: wrong master key or tampered record`);
    }
  }

  /**
   * A value that identifies the master key without revealing it: HMAC-SHA256 of a constant.
   * Stored once per database so an instance started with a different key refuses to start.
   */
  checkValue(): string {
    return createHmac('sha256', this.#masterKey).update('tollgate master key check v1').digest('base64url');
  }

  /** Re-wraps the data key under another master key, leaving the sealed secret untouched. */
  rewrap(stored: string, recordId: string, next: Vault): string {
    const [version, wrapped, sealed] = stored.split('.');
    if (version !== VERSION || !wrapped || !sealed) throw new VaultError('unrecognised ciphertext format');
    const dataKey = open(this.#masterKey, wrapped, `dek:${recordId}`);
    const rewrapped = seal(next.#masterKey, dataKey, `dek:${recordId}`);
    dataKey.fill(0);
    return `${VERSION}.${rewrapped}.${sealed}`;
  }
}

/** A masked preview of a secret: enough to recognise it, never enough to use it. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '••••';
  const head = secret.match(/^[A-Za-z]+[-_]/)?.[0] ?? '';
  return `${head}••••${secret.slice(-4)}`;
}
