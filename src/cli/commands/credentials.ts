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

/**
 * Named shortcuts for the providers' fields (see `GET /api/v1/providers`): `--api-version`
 * sets `apiVersion`, and so on. Any other field goes through `--field name=value`.
 */
const NAMED_FIELDS: Array<[flag: string, field: string, help: string]> = [
  ['--api-key <secret>', 'apiKey', 'the provider API key (stored encrypted, shown masked)'],
  ['--base-url <url>', 'baseUrl', 'the provider base URL, e.g. https://api.openai.com/v1'],
  ['--organization <id>', 'organization', 'the OpenAI organization id'],
  ['--endpoint <url>', 'endpoint', 'Azure: the resource endpoint, https://NAME.openai.azure.com'],
  ['--api-version <version>', 'apiVersion', 'Azure: the API version, e.g. 2024-10-21'],
  ['--deployment <name>', 'deployment', "Azure: the deployment (default: the target's upstream model)"],
  ['--tenant-id <id>', 'tenantId', 'Azure Entra ID: the tenant'],
  ['--client-id <id>', 'clientId', 'Azure Entra ID: the application (client) id'],
  ['--client-secret <secret>', 'clientSecret', 'Azure Entra ID: the client secret (stored encrypted)'],
  ['--region <region>', 'region', 'AWS Bedrock: the region, e.g. us-east-1'],
  ['--access-key-id <id>', 'accessKeyId', 'AWS Bedrock: the access key id (stored encrypted)'],
  ['--secret-access-key <secret>', 'secretAccessKey', 'AWS Bedrock: the secret access key (stored encrypted)'],
  ['--session-token <token>', 'sessionToken', 'AWS Bedrock: a session token, for temporary credentials'],
];

type FieldOptions = Record<string, string | undefined> & { field: Record<string, string> };

/** The `fields` object the API takes: `--field` pairs plus the named shortcuts that were given. */
function fieldsFrom(options: FieldOptions): Record<string, string> {
  const fields: Record<string, string> = { ...options.field };
  for (const [, field] of NAMED_FIELDS) {
    const value = options[field];
    if (typeof value === 'string') fields[field] = value;
  }
  return fields;
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
  for (const [flag, , help] of NAMED_FIELDS) command.option(flag, help);
  return command.option('--field <name=value>', "another of the provider's fields (repeatable)", collectField, {});
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
