import { type Command, Option } from 'commander';
import { AdminClient } from '../client.ts';
import {
  type AccessRules,
  needsCurrentRules,
  type RateLimits,
  type RateOptions,
  type RuleOptions,
  rateLimitsChange,
  rateLimitText,
  ruleLines,
  rulesChange,
  withPolicyOptions,
} from '../key-policy.ts';
import { resolveKeyId } from '../key-ref.ts';
import { count, details, emit, type JsonOption, money, subcommand, table, when } from '../output.ts';
import { type OrNone, orNull, parseExpiry, parseExpiryOrNever } from '../parse-options.ts';
import {
  limitText,
  needsCurrentLimit,
  type SpendLimit,
  type SpendOptions,
  type SpendReport,
  spendCell,
  spendLimitChange,
  spendRows,
  withSpendOptions,
} from '../spend-limit.ts';
import { keyActionCommands, newKeyLines } from './key-actions.ts';

export interface ApiKey {
  id: string;
  name: string;
  preview: string;
  status: 'active' | 'disabled' | 'revoked';
  projectId: string;
  project?: string;
  ownerUserId: string | null;
  rules: AccessRules;
  hasRules: boolean;
  spendLimit: SpendLimit;
  rateLimits: RateLimits;
  spend?: SpendReport;
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
  rotatedGraceEndsAt: string | null;
  usage?: { requests: number; promptTokens: number; completionTokens: number; costUsd: number };
}

type PolicyOptions = SpendOptions & RuleOptions & RateOptions;

function describe(key: ApiKey, owner?: string): string {
  const rows: Array<[string, string]> = [
    ['Name', key.name],
    ['ID', key.id],
    ['Key', `${key.preview} (preview)`],
    ['Status', key.status],
    key.project === undefined ? ['Project ID', key.projectId] : ['Project', key.project],
    ['Owner', key.ownerUserId === null ? 'none (service key)' : (owner ?? key.ownerUserId)],
    ['Created', `${when(key.createdAt)}${key.createdBy ? ` by ${key.createdBy}` : ''}`],
    ['Last used', when(key.lastUsedAt, 'never')],
    ['Expires', when(key.expiresAt, 'never')],
  ];
  if (key.rotatedGraceEndsAt) rows.push(['Old key works until', when(key.rotatedGraceEndsAt)]);
  if (key.usage) {
    rows.push(
      ['Requests', count(key.usage.requests)],
      ['Tokens', `${count(key.usage.promptTokens)} prompt + ${count(key.usage.completionTokens)} completion`],
      ['Cost', money(key.usage.costUsd)],
    );
  }
  rows.push(
    ...spendRows(key.spendLimit ?? {}, key.spend),
    ['Rules', ruleLines(key.rules ?? {})],
    ['Rate limits', rateLimitText(key.rateLimits ?? {})],
  );
  return details(rows);
}

/** The owner's email for `keys show`, or nothing when it cannot be read. */
async function ownerEmail(client: AdminClient, key: ApiKey): Promise<string | undefined> {
  if (key.ownerUserId === null) return undefined;
  try {
    const user = await client.get<{ email: string }>(`/api/v1/users/${encodeURIComponent(key.ownerUserId)}`);
    return `${user.email} (${key.ownerUserId})`;
  } catch {
    return undefined;
  }
}

const keyPath = (id: string, action = '') => `/api/v1/keys/${encodeURIComponent(id)}${action}`;

export function keyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys: what callers send to use the gateway');

  const create = subcommand(keys, 'create', 'Create an API key; the key is shown once, here')
    .requiredOption('--name <name>', 'a name saying who or what uses the key')
    .option('--project <ref>', 'project name or id (default: the first project)')
    .option('--owner <user>', 'the user who owns the key (id or email); without it, a service key')
    .option('--expires <when>', 'ISO date/time, or a duration from now such as 30d or 12h', (value: string) =>
      parseExpiry(value),
    );
  withPolicyOptions(withSpendOptions(create, 'key', false), false).action(
    async (
      options: JsonOption & PolicyOptions & { name: string; project?: string; owner?: string; expires?: string },
    ) => {
      const spendLimit = spendLimitChange(options);
      const rules = rulesChange(options);
      const rateLimits = rateLimitsChange(options);
      const body = {
        name: options.name,
        ...(options.project !== undefined && { project: options.project }),
        ...(options.owner !== undefined && { owner: options.owner }),
        ...(options.expires !== undefined && { expiresAt: options.expires }),
        ...(spendLimit && { spendLimit }),
        ...(rules && { rules }),
        ...(rateLimits && { rateLimits }),
      };
      const created = await AdminClient.fromEnv().call<ApiKey & { key: string }>('POST', '/api/v1/keys', { body });
      emit(options, created, () =>
        [
          `Created API key "${created.name}" in project ${created.project ?? created.projectId}.`,
          `ID: ${created.id}`,
          `Expires: ${when(created.expiresAt, 'never')}`,
          ...(spendLimit || rules || rateLimits
            ? [
                `Spend limit: ${limitText(created.spendLimit)}`,
                `Rules: ${ruleLines(created.rules).replaceAll('\n', '; ')}`,
                `Rate limits: ${rateLimitText(created.rateLimits)}`,
              ]
            : []),
          ...newKeyLines(created.key),
        ].join('\n'),
      );
    },
  );

  subcommand(keys, 'list', 'List API keys (previews only, never the keys) with spend against their limits')
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
              [
                'ID',
                'Name',
                'Preview',
                'Status',
                'Project',
                'Spend / limit',
                'Rules',
                'Created',
                'Last used',
                'Expires',
              ],
              data.keys.map((key) => [
                key.id,
                key.name,
                key.preview,
                key.status,
                key.project ?? key.projectId,
                spendCell(key.spendLimit ?? {}, key.spend),
                key.hasRules ? 'rules' : '',
                when(key.createdAt),
                when(key.lastUsedAt, 'never'),
                when(key.expiresAt, 'never'),
              ]),
            ),
      );
    });

  subcommand(keys, 'show', 'Show an API key: usage, spend this period and its reset, limits, rules')
    .argument('<id>', 'key id (or its name, if unique)')
    .action(async (ref: string, options: JsonOption) => {
      const client = AdminClient.fromEnv();
      const key = await client.get<ApiKey>(keyPath(await resolveKeyId(client, ref)));
      const owner = options.json ? undefined : await ownerEmail(client, key);
      emit(options, key, () => describe(key, owner));
    });

  const update = subcommand(keys, 'update', 'Change an API key: name, expiry, owner, spend limits, rules, rate limits')
    .argument('<id>', 'key id (or its name, if unique)')
    .option('--name <name>', 'a new name')
    .option('--owner <user>', 'the user who owns the key (id or email); "none" makes it a service key')
    .option('--expires <when>', 'ISO date/time, a duration such as 30d, or "never"', parseExpiryOrNever);
  withPolicyOptions(withSpendOptions(update, 'key', true), true).action(
    async (
      ref: string,
      options: JsonOption & PolicyOptions & { name?: string; owner?: string; expires?: OrNone<string> },
    ) => {
      const client = AdminClient.fromEnv();
      const id = await resolveKeyId(client, ref);
      const current =
        needsCurrentLimit(options) || needsCurrentRules(options) ? await client.get<ApiKey>(keyPath(id)) : undefined;
      const spendLimit = spendLimitChange(options, current?.spendLimit);
      const rules = rulesChange(options, current?.rules);
      const rateLimits = rateLimitsChange(options);
      const body = {
        ...(options.name !== undefined && { name: options.name }),
        ...(options.owner !== undefined && { owner: options.owner === 'none' ? null : options.owner }),
        ...(options.expires !== undefined && { expiresAt: orNull(options.expires) }),
        ...(spendLimit && { spendLimit }),
        ...(rules && { rules }),
        ...(rateLimits && { rateLimits }),
      };
      if (Object.keys(body).length === 0) {
        throw new Error('Nothing to update: give --name, --expires, --owner, a limit, a rule or a rate limit');
      }
      const key = await client.call<ApiKey>('PATCH', keyPath(id), { body });
      emit(options, key, () => `Updated API key "${key.name}".\n${describe(key)}`);
    },
  );

  keyActionCommands(keys);
}
