import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveMasterKey } from '../../bootstrap.ts';
import { loadConfig, parseMasterKey } from '../../config.ts';
import { rotateMasterKey } from '../../crypto/rotate-master-key.ts';
import { Vault } from '../../crypto/vault.ts';
import { openStore, type Store } from '../../store/db.ts';
import { emit, type JsonOption, subcommand } from '../output.ts';

export interface RotateMasterKeyOptions extends JsonOption {
  newKey?: string;
  newKeyFile?: string;
}

export interface RotateMasterKeyReport {
  /** Provider credentials re-wrapped under the new key. */
  credentials: number;
  /** The database was already under the new key; only the key file (if any) was written. */
  alreadyRotated: boolean;
  /** Where the old key came from, and so where the new one must go. */
  source: 'env' | 'file';
  /** The key file that now holds the new key, when the key lives in a file. */
  keyFile: string | null;
  database: 'pglite' | 'postgres';
  nextSteps: string[];
}

function newKeyFrom(options: RotateMasterKeyOptions): Buffer {
  if ((options.newKey === undefined) === (options.newKeyFile === undefined)) {
    throw new Error('give the new master key with either --new-key <hex|base64> or --new-key-file <path>');
  }
  if (options.newKey !== undefined) return parseMasterKey(options.newKey, '--new-key');
  const file = options.newKeyFile as string;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the new key from ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseMasterKey(text, file === '-' ? 'the new key on standard input' : file);
}

/**
 * Processes (Linux: from /proc) that have a file under `dir` open. `undefined` when that cannot
 * be known here. Processes of other users are skipped unless we are root: their descriptors
 * cannot be read, and they cannot open our data directory either.
 */
function processesUsing(dir: string): number[] | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const prefix = `${dir}${path.sep}`;
  const uid = process.getuid?.();
  const holders: number[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      if (uid !== 0 && statSync(`/proc/${pid}`).uid !== uid) continue;
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(prefix)) {
          holders.push(Number(pid));
          break;
        }
      } catch {
        // The descriptor closed meanwhile.
      }
    }
  }
  return holders;
}

/**
 * PGlite does not lock its data directory: a second process opening it while Tollgate runs
 * would corrupt it. PGlite writes `postmaster.pid` while the database is open and removes it on
 * a clean close; when the file is there, look for the process holding the directory.
 */
function assertEmbeddedDatabaseFree(dataDir: string): void {
  const pgdata = path.join(dataDir, 'pgdata');
  if (!existsSync(path.join(pgdata, 'postmaster.pid'))) return;
  const holders = processesUsing(realpathSync(pgdata));
  if (holders === undefined) {
    throw new Error(
      `the embedded database in ${pgdata} is in use (postmaster.pid is present): stop Tollgate and run this command again. ` +
        'If Tollgate is not running, it was stopped without closing the database: start it and stop it once, then retry.',
    );
  }
  if (holders.length > 0) {
    throw new Error(
      `the embedded database in ${pgdata} is open in process ${holders.join(', ')} (a running Tollgate?): ` +
        'only one process may use it at a time. Stop Tollgate and run this command again.',
    );
  }
}

/** Replaces the key file so that it holds either the old key or the new one, never a torn write. */
function writeKeyFile(file: string, key: Buffer): void {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Not every platform can fsync a directory; the rename itself is atomic.
  }
}

function nextSteps(report: Omit<RotateMasterKeyReport, 'nextSteps'>): string[] {
  if (report.source === 'file') {
    return [
      `Start Tollgate as usual: it reads the new key from ${report.keyFile}.`,
      'Database backups taken before this rotation still need the old key; keep a copy of it with those backups, or destroy both.',
    ];
  }
  const steps = [
    'Put the new key in TOLLGATE_MASTER_KEY for every Tollgate instance (in your secret store), replacing the old one.',
    report.database === 'postgres'
      ? 'Restart the instances, one by one if you like. Until it restarts, an instance keeps serving with the credentials it holds in memory, but it cannot start again with the old key; make no credential or model changes until every instance runs with the new key.'
      : 'Start Tollgate with the new key; it refuses to start with the old one.',
    'Then destroy the old key, unless database backups taken before this rotation still need it.',
  ];
  return steps;
}

function human(report: RotateMasterKeyReport): string {
  const lines = report.alreadyRotated
    ? ['The database was already under the new master key (an earlier rotation committed); nothing was re-wrapped.']
    : [
        `Rotated the master key: ${report.credentials} provider credential${report.credentials === 1 ? '' : 's'} re-wrapped in one transaction;`,
        "the database now records the new key's check value.",
      ];
  if (report.keyFile) lines.push(`Wrote the new key to ${report.keyFile} (owner-only permissions).`);
  lines.push('', 'Next steps:', ...report.nextSteps.map((step, index) => `  ${index + 1}. ${step}`));
  return lines.join('\n');
}

/**
 * Rotates the master key directly in the database that the environment configures (the admin
 * API is not involved): re-wraps every credential's data key under the new key and updates the
 * check value in one transaction, then — when the key lives in `<data dir>/master.key` — replaces
 * that file with the new key.
 */
export async function rotateMasterKeyInDatabase(
  options: RotateMasterKeyOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<RotateMasterKeyReport> {
  const newKey = newKeyFrom(options);
  const config = loadConfig(env);
  const keyFile = path.join(config.dataDir, 'master.key');
  if (!config.masterKey && !existsSync(keyFile)) {
    throw new Error(`there is no master key to rotate: TOLLGATE_MASTER_KEY is not set and ${keyFile} does not exist`);
  }
  const master = resolveMasterKey(config);
  const database: RotateMasterKeyReport['database'] = config.databaseUrl ? 'postgres' : 'pglite';
  if (database === 'pglite') assertEmbeddedDatabaseFree(config.dataDir);

  let store: Store;
  try {
    store = await openStore(config);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      database === 'pglite'
        ? `cannot open the embedded database in ${path.join(config.dataDir, 'pgdata')} (is Tollgate running on it? stop it first): ${detail}`
        : `cannot open the database: ${detail}`,
    );
  }
  let result: Awaited<ReturnType<typeof rotateMasterKey>>;
  try {
    result = await rotateMasterKey(store.db, new Vault(master.key), new Vault(newKey));
  } finally {
    await store.close();
  }

  if (master.source === 'file') {
    try {
      writeKeyFile(keyFile, newKey);
    } catch (error) {
      throw new Error(
        `the database now uses the new master key, but ${keyFile} could not be replaced ` +
          `(${(error as NodeJS.ErrnoException).code ?? error}): put the new key in that file yourself, ` +
          'or set TOLLGATE_MASTER_KEY to it, before starting Tollgate',
      );
    }
  }
  const report = { ...result, source: master.source, keyFile: master.source === 'file' ? keyFile : null, database };
  return { ...report, nextSteps: nextSteps(report) };
}

export function rotateMasterKeyCommand(program: Command): void {
  subcommand(
    program,
    'rotate-master-key',
    'Re-encrypt every provider credential under a new master key (runs against the database directly)',
  )
    .option('--new-key <key>', 'the new key: 32 bytes as 64 hex characters or base64 (e.g. openssl rand -hex 32)')
    .option(
      '--new-key-file <path>',
      'read the new key from a file ("-" for standard input); keeps it out of ps and history',
    )
    .addHelpText(
      'after',
      '\nUses TOLLGATE_MASTER_KEY (or <data dir>/master.key), DATABASE_URL and TOLLGATE_DATA_DIR like `tollgate serve`.\n' +
        'With the embedded database, stop Tollgate first. See docs/security.md.',
    )
    .action(async (options: RotateMasterKeyOptions) => {
      const report = await rotateMasterKeyInDatabase(options);
      emit(options, report, () => human(report));
    });
}
