import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, subcommand, table, when } from '../output.ts';
import { collectField } from '../parse-options.ts';

interface Credential {
  id: string;
  name: string;
  provider: string;
  authMethod: string;
  /** Masked previews only: the API never returns a secret. */
  secrets: Record<string, string>;
  settings: Record<string, string>;
  models: string[];
  createdAt: string;
  updatedAt: string;
}

interface FieldOptions {
  apiKey?: string;
  baseUrl?: string;
  organization?: string;
  field: Record<string, string>;
}

/** The `fields` object the API takes: `--field` pairs plus the named shortcuts that were given. */
function fieldsFrom(options: FieldOptions): Record<string, string> {
  return {
    ...options.field,
    ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
    ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl }),
    ...(options.organization !== undefined && { organization: options.organization }),
  };
}

function pairs(record: Record<string, string>): string {
  return Object.entries(record)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');
}

function describe(credential: Credential): string {
  return details([
    ['Name', credential.name],
    ['ID', credential.id],
    ['Provider', credential.provider],
    ['Auth method', credential.authMethod],
    ['Secrets', pairs(credential.secrets) || '—'],
    ['Settings', pairs(credential.settings) || '—'],
    ['Used by models', credential.models.join(', ') || '—'],
    ['Created', when(credential.createdAt)],
    ['Updated', when(credential.updatedAt)],
  ]);
}

function withFieldOptions(command: Command): Command {
  return command
    .option('--api-key <secret>', 'the provider API key (stored encrypted, shown masked)')
    .option('--base-url <url>', 'the provider base URL, e.g. https://api.openai.com/v1')
    .option('--organization <id>', 'the OpenAI organization id')
    .option('--field <name=value>', "another of the provider's fields (repeatable)", collectField, {});
}

const path = (ref: string) => `/api/v1/credentials/${encodeURIComponent(ref)}`;

export function credentialCommands(program: Command): void {
  const credentials = program
    .command('credentials')
    .description('Provider credentials: how Tollgate reaches a provider (secrets stored encrypted)');

  withFieldOptions(subcommand(credentials, 'create', 'Store a provider credential'))
    .requiredOption('--name <name>', 'a unique name, used by models to refer to it')
    .requiredOption('--provider <id>', 'openai, openai-compatible, mistral, groq, ollama, … (GET /api/v1/providers)')
    .option('--auth-method <id>', "one of the provider's auth methods (default: its first)")
    .action(async (options: FieldOptions & JsonOption & { name: string; provider: string; authMethod?: string }) => {
      const body = {
        name: options.name,
        provider: options.provider,
        ...(options.authMethod !== undefined && { authMethod: options.authMethod }),
        fields: fieldsFrom(options),
      };
      const created = await AdminClient.fromEnv().call<Credential>('POST', '/api/v1/credentials', { body });
      emit(options, created, () => `Created credential "${created.name}".\n${describe(created)}`);
    });

  subcommand(credentials, 'list', 'List credentials (secrets masked)').action(async (options: JsonOption) => {
    const data = await AdminClient.fromEnv().get<{ credentials: Credential[] }>('/api/v1/credentials');
    emit(options, data, () =>
      data.credentials.length === 0
        ? 'No credentials yet: add one with `tollgate credentials create`.'
        : table(
            ['Name', 'Provider', 'Secrets', 'Settings', 'Models', 'Updated'],
            data.credentials.map((credential) => [
              credential.name,
              credential.provider,
              pairs(credential.secrets) || '—',
              pairs(credential.settings) || '—',
              credential.models.join('\n') || '—',
              when(credential.updatedAt),
            ]),
          ),
    );
  });

  subcommand(credentials, 'show', 'Show a credential by name or id (secrets masked)')
    .argument('<ref>', 'credential name or id')
    .action(async (ref: string, options: JsonOption) => {
      const credential = await AdminClient.fromEnv().get<Credential>(path(ref));
      emit(options, credential, () => describe(credential));
    });

  withFieldOptions(subcommand(credentials, 'update', 'Change fields or rename; models using it follow at once'))
    .argument('<ref>', 'credential name or id')
    .option('--name <name>', 'a new name')
    .action(async (ref: string, options: FieldOptions & JsonOption & { name?: string }) => {
      const fields = fieldsFrom(options);
      const hasFields = Object.keys(fields).length > 0;
      if (!hasFields && options.name === undefined) {
        throw new Error('Nothing to update: give --name, --api-key, --base-url, --organization or --field');
      }
      const body = { ...(options.name !== undefined && { name: options.name }), ...(hasFields && { fields }) };
      const updated = await AdminClient.fromEnv().call<Credential>('PATCH', path(ref), { body });
      emit(options, updated, () => `Updated credential "${updated.name}".\n${describe(updated)}`);
    });

  subcommand(credentials, 'delete', 'Delete a credential; refused while models use it unless --force')
    .argument('<ref>', 'credential name or id')
    .option('--force', 'delete it even if models use it (their targets on it are removed)')
    .action(async (ref: string, options: JsonOption & { force?: boolean }) => {
      await AdminClient.fromEnv().call('DELETE', path(ref), { query: { force: options.force } });
      emit(options, { deleted: true, ref }, () => `Deleted credential "${ref}".`);
    });
}
