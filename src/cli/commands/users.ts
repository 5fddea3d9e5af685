import { type Command, Option } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, subcommand, table, when } from '../output.ts';
import {
  needsCurrentLimit,
  type SpendLimit,
  type SpendOptions,
  type SpendReport,
  spendCell,
  spendLimitChange,
  spendRows,
  withSpendOptions,
} from '../spend-limit.ts';

const ROLES = ['owner', 'admin', 'member', 'viewer'];

interface User {
  id: string;
  email: string;
  name: string | null;
  role: string;
  spendLimit: SpendLimit;
  spend?: SpendReport;
  createdAt: string;
}

interface UserOptions extends JsonOption, SpendOptions {
  name?: string;
  role?: string;
}

function describe(user: User): string {
  return details([
    ['Email', user.email],
    ['Name', user.name || '—'],
    ['ID', user.id],
    ['Role', user.role],
    ...spendRows(user.spendLimit ?? {}, user.spend),
    ['Created', when(user.createdAt)],
  ]);
}

function userBody(options: UserOptions, current?: User) {
  const spendLimit = spendLimitChange(options, current?.spendLimit);
  return {
    ...(options.name !== undefined && { name: options.name }),
    ...(options.role !== undefined && { role: options.role }),
    ...(spendLimit && { spendLimit }),
  };
}

const role = (required: boolean) => {
  const option = new Option('--role <role>', 'what the user may do in the organisation').choices(ROLES);
  return required ? option.makeOptionMandatory() : option;
};

const path = (ref: string) => `/api/v1/users/${encodeURIComponent(ref)}`;

export function userCommands(program: Command): void {
  const users = program
    .command('users')
    .description('Users: members of the organisation, with roles and spend limits over the keys they own');

  withSpendOptions(subcommand(users, 'create', 'Add a user to the organisation'), 'user', false)
    .requiredOption('--email <email>', "the user's email address")
    .addOption(role(true))
    .option('--name <name>', "the user's name")
    .action(async (options: UserOptions & { email: string }) => {
      const body = { email: options.email, ...userBody(options) };
      const created = await AdminClient.fromEnv().call<User>('POST', '/api/v1/users', { body });
      emit(options, created, () => `Added user ${created.email} as ${created.role}.\n${describe(created)}`);
    });

  subcommand(users, 'list', 'List the users with their roles and spend').action(async (options: JsonOption) => {
    const data = await AdminClient.fromEnv().get<{ users: User[] }>('/api/v1/users');
    emit(options, data, () =>
      data.users.length === 0
        ? 'No users yet: add one with `tollgate users create`.'
        : table(
            ['Email', 'Name', 'Role', 'Spend / limit', 'Created', 'ID'],
            data.users.map((user) => [
              user.email,
              user.name || '—',
              user.role,
              spendCell(user.spendLimit ?? {}, user.spend),
              when(user.createdAt),
              user.id,
            ]),
          ),
    );
  });

  subcommand(users, 'show', 'Show a user by email or id: role, limits, spend this period')
    .argument('<ref>', 'email or id')
    .action(async (ref: string, options: JsonOption) => {
      const user = await AdminClient.fromEnv().get<User>(path(ref));
      emit(options, user, () => describe(user));
    });

  withSpendOptions(
    subcommand(users, 'update', "Change a user's name, role or spend limits").argument('<ref>', 'email or id'),
    'user',
    true,
  )
    .option('--name <name>', 'a new name')
    .addOption(role(false))
    .action(async (ref: string, options: UserOptions) => {
      const client = AdminClient.fromEnv();
      const current = needsCurrentLimit(options) ? await client.get<User>(path(ref)) : undefined;
      const body = userBody(options, current);
      if (Object.keys(body).length === 0) throw new Error('Nothing to update: give --name, --role or a spend limit');
      const updated = await client.call<User>('PATCH', path(ref), { body });
      emit(options, updated, () => `Updated user ${updated.email}.\n${describe(updated)}`);
    });

  subcommand(users, 'delete', 'Remove a user from the organisation (their keys stay, without an owner limit)')
    .argument('<ref>', 'email or id')
    .action(async (ref: string, options: JsonOption) => {
      await AdminClient.fromEnv().call('DELETE', path(ref));
      emit(options, { deleted: true, ref }, () => `Removed user ${ref}.`);
    });
}
