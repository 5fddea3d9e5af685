import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, subcommand, when } from '../output.ts';
import {
  needsCurrentLimit,
  type SpendLimit,
  type SpendOptions,
  type SpendReport,
  spendLimitChange,
  spendRows,
  withSpendOptions,
} from '../spend-limit.ts';

interface Organization {
  id: string;
  name: string;
  slug: string;
  spendLimit: SpendLimit;
  spend?: SpendReport;
  createdAt: string;
}

function describe(org: Organization): string {
  return details([
    ['Name', org.name],
    ['Slug', org.slug],
    ['ID', org.id],
    ...spendRows(org.spendLimit ?? {}, org.spend),
    ['Created', when(org.createdAt)],
  ]);
}

const PATH = '/api/v1/organization';

export function organizationCommands(program: Command): void {
  const org = program
    .command('org')
    .alias('organization')
    .description('The organisation: its name and the spend limit every request must also fit');

  subcommand(org, 'show', 'Show the organisation, its spend limits and spend').action(async (options: JsonOption) => {
    const shown = await AdminClient.fromEnv().get<Organization>(PATH);
    emit(options, shown, () => describe(shown));
  });

  withSpendOptions(
    subcommand(org, 'update', 'Rename the organisation or change its spend limits'),
    'organisation',
    true,
  )
    .option('--name <name>', 'a new name')
    .action(async (options: JsonOption & SpendOptions & { name?: string }) => {
      const client = AdminClient.fromEnv();
      const current = needsCurrentLimit(options) ? await client.get<Organization>(PATH) : undefined;
      const spendLimit = spendLimitChange(options, current?.spendLimit);
      const body = {
        ...(options.name !== undefined && { name: options.name }),
        ...(spendLimit && { spendLimit }),
      };
      if (Object.keys(body).length === 0) throw new Error('Nothing to update: give --name or a spend limit');
      const updated = await client.call<Organization>('PATCH', PATH, { body });
      emit(options, updated, () => `Updated the organisation.\n${describe(updated)}`);
    });
}
