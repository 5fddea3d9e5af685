import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { type Config, ConfigError } from '../config.ts';
import type { WriteContext } from '../control/context.ts';
import { applyDocument } from './apply.ts';
import { ConfigFileError, locatedError, readConfig } from './parse.ts';
import { ConfigProblems } from './problems.ts';

/**
 * `TOLLGATE_CONFIG=tollgate.yaml`: the file is applied at every start, before the caches load,
 * with its secrets read from this process's environment. A file that cannot be applied stops
 * the start (nothing of it applied), its problems in the message; one that changes nothing
 * changes nothing. Instances starting together take turns (see apply.ts).
 */
export async function applyConfigFileAtStart(
  config: Config,
  ctx: Omit<WriteContext, 'plans'>,
  logger: Pick<Logger, 'info'>,
): Promise<void> {
  const file = config.configFile;
  if (!file) return;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError('TOLLGATE_CONFIG', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  try {
    const { document, source } = readConfig(text, file, process.env);
    const plans = { keyLimits: config.planKeyLimits, defaultPlan: config.defaultPlan };
    const result = await applyDocument({ ...ctx, plans }, document, {
      dryRun: false,
      prune: document.prune ?? false,
    }).catch((error) => {
      throw error instanceof ConfigProblems ? locatedError(source, error.problems) : error;
    });
    const names = (action: string) =>
      result.changes.filter((change) => change.action === action).map((change) => `${change.kind} ${change.name}`);
    logger.info(
      {
        file,
        created: names('create'),
        updated: names('update'),
        released: names('release'),
        deleted: names('delete'),
      },
      `${file} applied: ${result.summary.create} created, ${result.summary.update} updated, ${result.summary.release} released, ${result.summary.delete} deleted, ${result.summary.unchanged} unchanged`,
    );
  } catch (error) {
    throw error instanceof ConfigFileError ? new ConfigError('TOLLGATE_CONFIG', error.message) : error;
  }
}
