import { type Command, Option } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, subcommand, table, when } from '../output.ts';
import { limitOrNone, type OrNone, orNull } from '../parse-options.ts';
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

const PLANS = ['free', 'pro', 'enterprise'];

interface Project {
  id: string;
  name: string;
  plan: string;
  /** The limit in force: the project's own, or its plan's; null for none. */
  keyLimit: number | null;
  keyLimitOverride: number | null;
  keysUsed: number;
  /** "3 of 10 keys used". */
  keysUsage: string;
  keysPerUser: number | null;
  spendLimit: SpendLimit;
  spend?: SpendReport;
  createdAt: string;
}

interface ProjectOptions extends JsonOption, SpendOptions {
  name?: string;
  plan?: string;
  keyLimit?: OrNone<number>;
  keysPerUser?: OrNone<number>;
}

function describe(project: Project): string {
  return details([
    ['Name', project.name],
    ['ID', project.id],
    ['Plan', project.plan],
    [
      'Keys',
      `${project.keysUsage}${project.keyLimitOverride === null ? " (the plan's limit)" : ' (set for this project)'}`,
    ],
    ['Keys per user', project.keysPerUser === null ? 'no limit' : String(project.keysPerUser)],
    ...spendRows(project.spendLimit ?? {}, project.spend),
    ['Created', when(project.createdAt)],
  ]);
}

function withProjectOptions(command: Command, update: boolean): Command {
  command
    .addOption(new Option('--plan <plan>', "the project's plan, which sets its default key limit").choices(PLANS))
    .option(
      '--key-limit <n>',
      update
        ? 'most API keys (not revoked), overriding the plan; "none" goes back to the plan\'s limit'
        : "most API keys (not revoked), overriding the plan's limit",
      limitOrNone,
    )
    .option(
      '--keys-per-user <n>',
      'most API keys (not revoked) one user may own here; "none" for no limit',
      limitOrNone,
    );
  return withSpendOptions(command, 'project', update);
}

function projectBody(options: ProjectOptions, current?: Project) {
  const spendLimit = spendLimitChange(options, current?.spendLimit);
  return {
    ...(options.name !== undefined && { name: options.name }),
    ...(options.plan !== undefined && { plan: options.plan }),
    ...(options.keyLimit !== undefined && { keyLimit: orNull(options.keyLimit) }),
    ...(options.keysPerUser !== undefined && { keysPerUser: orNull(options.keysPerUser) }),
    ...(spendLimit && { spendLimit }),
  };
}

const path = (ref: string) => `/api/v1/projects/${encodeURIComponent(ref)}`;

export function projectCommands(program: Command): void {
  const projects = program
    .command('projects')
    .description('Projects: groups of API keys, with a plan, key limits and spend limits');

  withProjectOptions(subcommand(projects, 'create', 'Create a project'), false)
    .requiredOption('--name <name>', 'a unique project name')
    .action(async (options: ProjectOptions & { name: string }) => {
      const body = projectBody(options);
      const created = await AdminClient.fromEnv().call<Project>('POST', '/api/v1/projects', { body });
      emit(options, created, () => `Created project "${created.name}".\n${describe(created)}`);
    });

  subcommand(projects, 'list', 'List projects with their keys used and spend').action(async (options: JsonOption) => {
    const data = await AdminClient.fromEnv().get<{ projects: Project[] }>('/api/v1/projects');
    emit(options, data, () =>
      table(
        ['Name', 'Plan', 'Keys', 'Spend / limit', 'Created', 'ID'],
        data.projects.map((project) => [
          project.name,
          project.plan,
          project.keysUsage,
          spendCell(project.spendLimit ?? {}, project.spend),
          when(project.createdAt),
          project.id,
        ]),
      ),
    );
  });

  subcommand(projects, 'show', 'Show a project by name or id: keys used, limits, spend')
    .argument('<ref>', 'project name or id')
    .action(async (ref: string, options: JsonOption) => {
      const project = await AdminClient.fromEnv().get<Project>(path(ref));
      emit(options, project, () => describe(project));
    });

  withProjectOptions(
    subcommand(projects, 'update', 'Change a project: name, plan, key limits, spend limits').argument(
      '<ref>',
      'project name or id',
    ),
    true,
  )
    .option('--name <name>', 'a new name')
    .action(async (ref: string, options: ProjectOptions) => {
      const client = AdminClient.fromEnv();
      const current = needsCurrentLimit(options) ? await client.get<Project>(path(ref)) : undefined;
      const body = projectBody(options, current);
      if (Object.keys(body).length === 0) {
        throw new Error('Nothing to update: give --name, --plan, --key-limit, --keys-per-user or a spend limit');
      }
      const updated = await client.call<Project>('PATCH', path(ref), { body });
      emit(options, updated, () => `Updated project "${updated.name}".\n${describe(updated)}`);
    });
}
