import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { resolveKeyId } from '../key-ref.ts';
import { emit, type JsonOption, subcommand, when } from '../output.ts';
import { graceSeconds } from '../parse-options.ts';
import type { ApiKey } from './keys.ts';

const path = (id: string, action = '') => `/api/v1/keys/${encodeURIComponent(id)}${action}`;

/** How a new key is shown: once, set apart, with the warning. */
export function newKeyLines(key: string): string[] {
  return ['', `    ${key}`, '', 'Copy it now: it will not be shown again.'];
}

/** Disable, enable, revoke, rotate, delete: the key's lifecycle. */
export function keyActionCommands(keys: Command): void {
  for (const [action, done, description] of [
    ['disable', 'Disabled', 'Disable an API key (reversible with enable)'],
    ['enable', 'Enabled', 'Enable a disabled API key'],
    ['revoke', 'Revoked', 'Revoke an API key for good (its record stays for history)'],
  ] as const) {
    subcommand(keys, action, description)
      .argument('<id>', 'key id (or its name, if unique)')
      .action(async (ref: string, options: JsonOption) => {
        const client = AdminClient.fromEnv();
        const key = await client.call<ApiKey>('POST', path(await resolveKeyId(client, ref), `/${action}`));
        emit(options, key, () => `${done} API key "${key.name}" (${key.id}); status: ${key.status}.`);
      });
  }

  subcommand(keys, 'rotate', 'Give an API key a new secret, keeping its settings; the new key is shown once')
    .argument('<id>', 'key id (or its name, if unique)')
    .option(
      '--grace <duration>',
      'how long the old secret keeps working: 30m, 24h, 7d (at most 30d; default: it stops at once)',
      graceSeconds,
    )
    .action(async (ref: string, options: JsonOption & { grace?: number }) => {
      const client = AdminClient.fromEnv();
      const body = options.grace === undefined ? {} : { graceSeconds: options.grace };
      const rotated = await client.call<ApiKey & { key: string }>(
        'POST',
        path(await resolveKeyId(client, ref), '/rotate'),
        { body },
      );
      emit(options, rotated, () =>
        [
          `Rotated API key "${rotated.name}" (${rotated.id}).`,
          rotated.rotatedGraceEndsAt
            ? `The old key keeps working until ${when(rotated.rotatedGraceEndsAt)}.`
            : 'The old key no longer works.',
          ...newKeyLines(rotated.key),
        ].join('\n'),
      );
    });

  subcommand(keys, 'delete', 'Delete an API key (its usage records stay)')
    .argument('<id>', 'key id (or its name, if unique)')
    .action(async (ref: string, options: JsonOption) => {
      const client = AdminClient.fromEnv();
      const id = await resolveKeyId(client, ref);
      await client.call('DELETE', path(id));
      emit(options, { deleted: true, id }, () => `Deleted API key ${id}.`);
    });
}
