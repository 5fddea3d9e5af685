import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ApplyResult } from '../../declarative/apply.ts';
import { documentYaml, type ExportSource, exportDocument } from '../../declarative/export.ts';
import { locatedError, readConfig } from '../../declarative/parse.ts';
import { planText } from '../../declarative/plan-text.ts';
import { problemsFromMessage } from '../../declarative/problems.ts';
import { AdminClient } from '../client.ts';
import { emit, type JsonOption } from '../output.ts';

interface ApplyOptions extends JsonOption {
  file: string;
  dryRun?: boolean;
  prune?: boolean;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/**
 * `tollgate apply -f tollgate.yaml` and `tollgate export`: a deployment kept in git
 * (docs/tollgate-yaml.md). Apply reads the file and its secrets here, from this shell's
 * environment, checks it, and sends it to POST /api/v1/config/apply; export reads the admin API.
 */
export function declarativeCommands(program: Command): void {
  program
    .command('apply')
    .description('Make Tollgate match a tollgate.yaml: credentials, models, projects, organisation limits')
    .requiredOption('-f, --file <path>', 'the tollgate.yaml to apply')
    .option('--dry-run', 'show what would change (create, update field by field, unchanged), change nothing')
    .option('--prune', 'delete the credentials and models the file managed and no longer lists (default: release them)')
    .option('--json', 'print the API response as JSON (for scripts)')
    .action(async (options: ApplyOptions) => {
      const { document, source } = readConfig(await readText(options.file), options.file, process.env);
      let result: ApplyResult;
      try {
        result = await AdminClient.fromEnv().call<ApplyResult>('POST', '/api/v1/config/apply', {
          body: { document, dryRun: options.dryRun === true, ...(options.prune && { prune: true }) },
        });
      } catch (error) {
        // Problems Tollgate found (a model without a price, a credential in use, …): placed in the file.
        const problems = problemsFromMessage((error as Error).message);
        throw problems ? locatedError(source, problems) : error;
      }
      emit(options, result, () => planText(result, options.file));
    });

  program
    .command('export')
    .description('Write a tollgate.yaml describing this Tollgate (secrets as references to environment variables)')
    .option('-o, --output <path>', 'write it to this file rather than to stdout')
    .option('--json', 'print the document as JSON rather than YAML')
    .action(async (options: JsonOption & { output?: string }) => {
      const client = AdminClient.fromEnv();
      const [organization, credentials, models, projects, providers] = await Promise.all([
        client.get<ExportSource['organization']>('/api/v1/organization'),
        client.get<{ credentials: ExportSource['credentials'] }>('/api/v1/credentials'),
        client.get<{ models: ExportSource['models'] }>('/api/v1/models'),
        client.get<{ projects: ExportSource['projects'] }>('/api/v1/projects'),
        client.get<{ providers: ExportSource['providers'] }>('/api/v1/providers'),
      ]);
      const { document, variables } = exportDocument({
        organization,
        credentials: credentials.credentials,
        models: models.models,
        projects: projects.projects,
        providers: providers.providers,
      });
      const text = options.json ? `${JSON.stringify(document, null, 2)}\n` : documentYaml(document, variables);
      if (!options.output) {
        process.stdout.write(text);
        return;
      }
      await writeFile(options.output, text);
      const needed = variables.map((entry) => entry.variable).join(', ');
      process.stderr.write(`Wrote ${options.output}.${needed ? ` Set ${needed} before applying it.` : ''}\n`);
    });
}
