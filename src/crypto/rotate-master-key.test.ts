import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../../test/support/backends.ts';
import { resolveMasterKey, verifyMasterKey } from '../bootstrap.ts';
import { rotateMasterKeyInDatabase } from '../cli/commands/rotate-master-key.ts';
import { loadConfig } from '../config.ts';
import { openStore, type Store } from '../store/db.ts';
import { organizations, providerCredentials, settings } from '../store/schema.ts';
import { rotateMasterKey } from './rotate-master-key.ts';
import { Vault } from './vault.ts';

const vault = () => new Vault(randomBytes(32));

async function checkValue(store: Store): Promise<string | undefined> {
  const [row] = await store.db.select().from(settings).where(eq(settings.key, 'master_key_check'));
  return row?.value;
}

async function rows(store: Store) {
  return store.db
    .select()
    .from(providerCredentials)
    .orderBy(asc(providerCredentials.createdAt), asc(providerCredentials.id));
}

/** Credentials created a second apart (after `offset` seconds), so the rotation visits them in this order. */
async function seed(store: Store, key: Vault, names: string[], offset = 0): Promise<void> {
  const [org] = await store.db
    .insert(organizations)
    .values({ name: 'Rotation', slug: `rotation-${randomBytes(4).toString('hex')}` })
    .returning();
  const start = Date.now() + offset * 1000;
  for (const [index, name] of names.entries()) {
    const id = crypto.randomUUID();
    await store.db.insert(providerCredentials).values({
      id,
      orgId: org!.id,
      name,
      provider: 'openai',
      authMethod: 'api-key',
      secretCiphertext: key.encrypt({ apiKey: `sk-${name}-secret` }, id),
      secretPreview: { apiKey: 'sk-••••' },
      createdAt: new Date(start + index * 1000),
    });
  }
}

for (const backend of backends()) {
  describe(`master key rotation (${backend.name})`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await openStore(await backend.prepare());
    });
    afterAll(() => store.close());
    afterEach(async () => {
      await store.db.delete(providerCredentials);
      await store.db.delete(settings).where(eq(settings.key, 'master_key_check'));
    });

    it('re-wraps every credential under the new key and records its check value', async () => {
      const oldKey = vault();
      const newKey = vault();
      await verifyMasterKey(store.db, oldKey, 'env');
      await seed(store, oldKey, ['alpha', 'beta', 'gamma']);
      const before = await rows(store);

      const result = await rotateMasterKey(store.db, oldKey, newKey);

      expect(result).toEqual({ credentials: 3, alreadyRotated: false });
      const after = await rows(store);
      for (const [index, row] of after.entries()) {
        expect(row.secretCiphertext).not.toBe(before[index]!.secretCiphertext);
        expect(newKey.decrypt(row.secretCiphertext, row.id)).toEqual({ apiKey: `sk-${row.name}-secret` });
        expect(() => oldKey.decrypt(row.secretCiphertext, row.id)).toThrow(/cannot decrypt/);
        // The sealed secret itself is untouched: only its data key was re-wrapped.
        expect(row.secretCiphertext.split('.')[2]).toBe(before[index]!.secretCiphertext.split('.')[2]);
        expect(row.updatedAt.getTime()).toBe(before[index]!.updatedAt.getTime());
      }
      expect(await checkValue(store)).toBe(newKey.checkValue());
      // An instance with the new key starts; one with the old key is refused.
      await expect(verifyMasterKey(store.db, newKey, 'env')).resolves.toBeUndefined();
      await expect(verifyMasterKey(store.db, oldKey, 'env')).rejects.toThrow(/does not match/);

      // Running it again with the new key only reports that the work is done.
      await expect(rotateMasterKey(store.db, oldKey, newKey)).resolves.toEqual({
        credentials: 0,
        alreadyRotated: true,
      });
      // And the rotation can go on to a third key.
      const third = vault();
      await expect(rotateMasterKey(store.db, newKey, third)).resolves.toMatchObject({ credentials: 3 });
      for (const row of await rows(store)) expect(third.decrypt(row.secretCiphertext, row.id)).toBeTruthy();
    });

    it('changes nothing when one credential cannot be opened mid-way', async () => {
      const oldKey = vault();
      const stranger = vault();
      await verifyMasterKey(store.db, oldKey, 'env');
      await seed(store, oldKey, ['first', 'second']);
      // A third credential sealed under another key: the rotation reaches it after two updates.
      await seed(store, stranger, ['broken'], 10);
      const before = await rows(store);
      expect(before.map((row) => row.name)).toEqual(['first', 'second', 'broken']);

      const error = await rotateMasterKey(store.db, oldKey, vault()).catch((e: Error) => e);

      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/"broken".*nothing was changed/);
      expect((error as Error).message).not.toContain('sk-');
      const after = await rows(store);
      expect(after.map((row) => row.secretCiphertext)).toEqual(before.map((row) => row.secretCiphertext));
      expect(oldKey.decrypt(after[0]!.secretCiphertext, after[0]!.id)).toEqual({ apiKey: 'sk-first-secret' });
      expect(await checkValue(store)).toBe(oldKey.checkValue());
    });

    it('refuses a current key that is not the database key, and a new key equal to the current one', async () => {
      const real = vault();
      await verifyMasterKey(store.db, real, 'env');
      await seed(store, real, ['only']);
      await expect(rotateMasterKey(store.db, vault(), vault())).rejects.toThrow(/not the one this database/);
      await expect(rotateMasterKey(store.db, real, real)).rejects.toThrow(/is the current master key/);
      expect(await checkValue(store)).toBe(real.checkValue());
    });
  });
}

/**
 * `tollgate rotate-master-key` as the CLI runs it (src/cli/commands/rotate-master-key.ts), against
 * the embedded database: the key file is replaced after the commit, a running database is refused.
 */
describe('the rotate-master-key command (embedded database)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  const key = () => randomBytes(32);

  async function open(): Promise<Store> {
    return openStore({ dataDir });
  }

  beforeAll(async () => {
    dataDir = tempDir();
    env = { TOLLGATE_DATA_DIR: dataDir };
    // A first start: key file created, check value recorded, two credentials stored.
    const master = resolveMasterKey(loadConfig(env));
    const store = await open();
    await verifyMasterKey(store.db, new Vault(master.key), 'file');
    await seed(store, new Vault(master.key), ['one', 'two']);
    await store.close();
  });

  it('rejects a missing, doubled or malformed new key before touching anything', async () => {
    await expect(rotateMasterKeyInDatabase({}, env)).rejects.toThrow(/--new-key .* or --new-key-file/);
    await expect(rotateMasterKeyInDatabase({ newKey: 'a', newKeyFile: 'b' }, env)).rejects.toThrow(/either/);
    await expect(rotateMasterKeyInDatabase({ newKey: 'not-a-key' }, env)).rejects.toThrow(
      /--new-key: must be 32 bytes/,
    );
    await expect(rotateMasterKeyInDatabase({ newKeyFile: path.join(dataDir, 'nope') }, env)).rejects.toThrow(
      /cannot read the new key .* ENOENT/,
    );
    await expect(
      rotateMasterKeyInDatabase({ newKey: key().toString('hex') }, { TOLLGATE_DATA_DIR: tempDir() }),
    ).rejects.toThrow(/no master key to rotate/);
  });

  it('refuses while the embedded database is open in a process', async () => {
    const before = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
    const store = await open();
    try {
      await expect(rotateMasterKeyInDatabase({ newKey: key().toString('hex') }, env)).rejects.toThrow(
        new RegExp(`open in process ${process.pid}.*Stop Tollgate`),
      );
    } finally {
      await store.close();
    }
    expect(readFileSync(path.join(dataDir, 'master.key'), 'utf8')).toBe(before);
  });

  it('re-wraps the credentials and replaces the key file atomically', async () => {
    const newKey = key();
    const keyFile = path.join(dataDir, 'new.key');
    writeFileSync(keyFile, `${newKey.toString('base64')}\n`);
    const report = await rotateMasterKeyInDatabase({ newKeyFile: keyFile }, env);
    expect(report).toMatchObject({
      credentials: 2,
      alreadyRotated: false,
      source: 'file',
      keyFile: path.join(dataDir, 'master.key'),
      database: 'pglite',
    });
    expect(report.nextSteps.join(' ')).toMatch(/reads the new key/);
    const written = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
    expect(written).toBe(`${newKey.toString('hex')}\n`);
    expect(statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const store = await open();
    try {
      for (const row of await rows(store)) {
        expect(new Vault(newKey).decrypt(row.secretCiphertext, row.id)).toEqual({ apiKey: `sk-${row.name}-secret` });
      }
      await expect(verifyMasterKey(store.db, new Vault(newKey), 'file')).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
    // Nowhere in the data directory, database files included, is a secret in plaintext.
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
      );
    for (const file of files(dataDir)) {
      const bytes = readFileSync(file);
      expect(bytes.includes('-secret'), file).toBe(false);
    }
  });

  it('with TOLLGATE_MASTER_KEY, leaves files alone and says where the new key must go', async () => {
    const current = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
    const next = key();
    const report = await rotateMasterKeyInDatabase(
      { newKey: next.toString('hex') },
      { ...env, TOLLGATE_MASTER_KEY: current },
    );
    expect(report).toMatchObject({ credentials: 2, source: 'env', keyFile: null });
    expect(report.nextSteps[0]).toMatch(/TOLLGATE_MASTER_KEY/);
    expect(readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim()).toBe(current);
    expect(JSON.stringify(report)).not.toContain(next.toString('hex'));
    const store = await open();
    try {
      expect(await checkValue(store)).toBe(new Vault(next).checkValue());
    } finally {
      await store.close();
    }
  });
});
