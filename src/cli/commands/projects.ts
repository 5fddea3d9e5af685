import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, subcommand, table, when } from '../output.ts';
import { limitOrNone } from '../parse-options.ts';

interface Project {
  id: string;
  name: string;
  keyLimit: number | null;
  keysUsed: number;
  createdAt: string;
}

const keysLine = (project: Project) =>
  project.keyLimit === null ? `${project.keysUsed} (no limit)` : `${project.keysUsed} / ${project.keyLimit}`;

function describe(project: Project): string {
  return details([
    ['Name', project.name],
    ['ID', project.id],
    ['Keys used / limit', keysLine(project)],
    ['Created', when(project.createdAt)],
  ]);
}

const path = (ref: string) => `/api/v1/projects/${encodeURIComponent(ref)}`;

export function projectCommands(program: Command): void {
  const projects = program.command('projects').description('Projects: groups of API keys, with an optional key limit');

  subcommand(projects, 'create', 'Create a project')
    .requiredOption('--name <name>', 'a unique project name')
    .option('--key-limit <n>', 'most API keys (not revoked) the project may hold; "none" for no limit', limitOrNone)
    .action(async (options: JsonOption & { name: string; keyLimit?: number | null }) => {
      const body = { name: options.name, ...(options.keyLimit !== undefined && { keyLimit: options.keyLimit }) };
      const created = await AdminClient.fromEnv().call<Project>('POST', '/api/v1/projects', { body });
      emit(options, created, () => `Created project "${created.name}".\n${describe(created)}`);
    });

  subcommand(projects, 'list', 'List projects with their key counts').action(async (options: JsonOption) => {
    const data = await AdminClient.fromEnv().get<{ projects: Project[] }>('/api/v1/projects');
    emit(options, data, () =>
      table(
        ['Name', 'Keys used / limit', 'Created', 'ID'],
        data.projects.map((project) => [project.name, keysLine(project), when(project.createdAt), project.id]),
      ),
    );
  });

  subcommand(projects, 'show', 'Show a project by name or id')
    .argument('<ref>', 'project name or id')
    .action(async (ref: string, options: JsonOption) => {
      const project = await AdminClient.fromEnv().get<Project>(path(ref));
      emit(options, project, () => describe(project));
    });

  subcommand(projects, 'update', 'Rename a project or change its key limit')
    .argument('<ref>', 'project name or id')
    .option('--name <name>', 'a new name')
    .option('--key-limit <n>', 'most API keys (not revoked); "none" removes the limit', limitOrNone)
    .action(async (ref: string, options: JsonOption & { name?: string; keyLimit?: number | null }) => {
      const body = {
        ...(options.name !== undefined && { name: options.name }),
        ...(options.keyLimit !== undefined && { keyLimit: options.keyLimit }),
      };
      if (Object.keys(body).length === 0) throw new Error('Nothing to update: give --name or --key-limit');
      const updated = await AdminClient.fromEnv().call<Project>('PATCH', path(ref), { body });
      emit(options, updated, () => `Updated project "${updated.name}".\n${describe(updated)}`);
    });
}
