import { type Command, Option } from 'commander';
import { AdminClient } from '../client.ts';
import { resolveKeyId } from '../key-ref.ts';
import { count, details, emit, type JsonOption, money, subcommand, table, when } from '../output.ts';
import { parseExpiry, parseExpiryOrNever } from '../parse-options.ts';

interface ApiKey {
  id: string;
  name: string;
  preview: string;
  status: 'active' | 'disabled' | 'revoked';
  projectId: string;
  project?: string;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  usage?: { requests: number; promptTokens: number; completionTokens: number; costUsd: number };
}

function describe(key: ApiKey): string {
  const rows: Array<[string, string]> = [
    ['Name', key.name],
    ['ID', key.id],
    ['Key', `${key.preview} (preview)`],
    ['Status', key.status],
    key.project === undefined ? ['Project ID', key.projectId] : ['Project', key.project],
    ['Created', `${when(key.createdAt)}${key.createdBy ? ` by ${key.createdBy}` : ''}`],
    ['Last used', when(key.lastUsedAt, 'never')],
    ['Expires', when(key.expiresAt, 'never')],
  ];
  if (key.usage) {
    rows.push(
      ['Requests', count(key.usage.requests)],
      ['Tokens', `${count(key.usage.promptTokens)} prompt + ${count(key.usage.completionTokens)} completion`],
      ['Cost', money(key.usage.costUsd)],
    );
  }
  return details(rows);
}

const path = (id: string, action = '') => `/api/v1/keys/${encodeURIComponent(id)}${action}`;

export function keyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys: what callers send to use the gateway');

  subcommand(keys, 'create', 'Create an API key; the key is shown once, here')
    .requiredOption('--name <name>', 'a name saying who or what uses the key')
    .option('--project <ref>', 'project name or id (default: the first project)')
    .option('--expires <when>', 'ISO date/time, or a duration from now such as 30d or 12h', (value: string) =>
      parseExpiry(value),
    )
    .action(async (options: JsonOption & { name: string; project?: string; expires?: string }) => {
      const body = {
        name: options.name,
        ...(options.project !== undefined && { project: options.project }),
        ...(options.expires !== undefined && { expiresAt: options.expires }),
      };
      const created = await AdminClient.fromEnv().call<ApiKey & { key: string }>('POST', '/api/v1/keys', { body });
      emit(options, created, () =>
        [
          `Created API key "${created.name}" in project ${created.project ?? created.projectId}.`,
          `ID: ${created.id}`,
          `Expires: ${when(created.expiresAt, 'never')}`,
          '',
          `    ${created.key}`,
          '',
          'Copy it now: it will not be shown again.',
        ].join('\n'),
      );
    });

  subcommand(keys, 'list', 'List API keys (previews only, never the keys)')
    .option('--project <ref>', 'only keys of this project (name or id)')
    .addOption(new Option('--status <status>', 'only keys with this status').choices(['active', 'disabled', 'revoked']))
    .action(async (options: JsonOption & { project?: string; status?: string }) => {
      const data = await AdminClient.fromEnv().get<{ keys: ApiKey[] }>('/api/v1/keys', {
        project: options.project,
        status: options.status,
      });
      emit(options, data, () =>
        data.keys.length === 0
          ? 'No API keys match.'
          : table(
              ['ID', 'Name', 'Preview', 'Status', 'Project', 'Created', 'Last used', 'Expires'],
              data.keys.map((key) => [
                key.id,
                key.name,
                key.preview,
                key.status,
                key.project ?? key.projectId,
                when(key.createdAt),
                when(key.lastUsedAt, 'never'),
                when(key.expiresAt, 'never'),
              ]),
            ),
      );
    });

  subcommand(keys, 'show', 'Show an API key with its usage totals')
    .argument('<id>', 'key id (or its name, if unique)')
    .action(async (ref: string, options: JsonOption) => {
      const client = AdminClient.fromEnv();
      const key = await client.get<ApiKey>(path(await resolveKeyId(client, ref)));
      emit(options, key, () => describe(key));
    });

  subcommand(keys, 'update', 'Rename an API key or change its expiry')
    .argument('<id>', 'key id (or its name, if unique)')
    .option('--name <name>', 'a new name')
    .option('--expires <when>', 'ISO date/time, a duration such as 30d, or "never"', parseExpiryOrNever)
    .action(async (ref: string, options: JsonOption & { name?: string; expires?: string | null }) => {
      const body = {
        ...(options.name !== undefined && { name: options.name }),
        ...(options.expires !== undefined && { expiresAt: options.expires }),
      };
      if (Object.keys(body).length === 0) throw new Error('Nothing to update: give --name or --expires');
      const client = AdminClient.fromEnv();
      const key = await client.call<ApiKey>('PATCH', path(await resolveKeyId(client, ref)), { body });
      emit(options, key, () => `Updated API key "${key.name}".\n${describe(key)}`);
    });

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

  subcommand(keys, 'delete', 'Delete an API key (its usage records stay)')
    .argument('<id>', 'key id (or its name, if unique)')
    .action(async (ref: string, options: JsonOption) => {
      const client = AdminClient.fromEnv();
      const id = await resolveKeyId(client, ref);
      await client.call('DELETE', path(id));
      emit(options, { deleted: true, id }, () => `Deleted API key ${id}.`);
    });
}
