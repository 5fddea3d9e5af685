import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { details, emit, type JsonOption, money, subcommand, table, when } from '../output.ts';
import { collectTarget, nonNegativeNumber, type TargetSpec } from '../parse-options.ts';

interface Model {
  id: string;
  name: string;
  /** USD per million tokens. */
  inputPrice: number;
  outputPrice: number;
  cachedInputPrice: number | null;
  cacheWriteInputPrice: number | null;
  cacheWrite1hInputPrice: number | null;
  /** Where each price came from: given, catalogue, derived or none. */
  priceSources: Record<string, string>;
  priceNotes: string[];
  targets: Array<{ credential: string; provider: string; upstreamModel: string; weight: number }>;
  createdAt: string;
  updatedAt: string;
}

interface TargetOptions {
  credential?: string;
  upstreamModel?: string;
  target: TargetSpec[];
}

interface PriceOptions {
  inputPrice?: number;
  outputPrice?: number;
  cachedInputPrice?: number;
  cacheWritePrice?: number;
  cacheWrite1hPrice?: number;
}

/** `--credential` + `--upstream-model` is the one-target shorthand for `--target`. */
function targetsFrom(options: TargetOptions): TargetSpec[] {
  if ((options.credential === undefined) !== (options.upstreamModel === undefined)) {
    throw new Error('--credential and --upstream-model go together (or use --target CREDENTIAL:UPSTREAM_MODEL)');
  }
  const first =
    options.credential !== undefined && options.upstreamModel !== undefined
      ? [{ credential: options.credential, upstreamModel: options.upstreamModel }]
      : [];
  return [...first, ...options.target];
}

function prices(options: PriceOptions) {
  return {
    ...(options.inputPrice !== undefined && { inputPrice: options.inputPrice }),
    ...(options.outputPrice !== undefined && { outputPrice: options.outputPrice }),
    ...(options.cachedInputPrice !== undefined && { cachedInputPrice: options.cachedInputPrice }),
    ...(options.cacheWritePrice !== undefined && { cacheWriteInputPrice: options.cacheWritePrice }),
    ...(options.cacheWrite1hPrice !== undefined && { cacheWrite1hInputPrice: options.cacheWrite1hPrice }),
  };
}

/** A price and, unless an administrator gave it, where it came from: `$0.30 (derived)`. */
function priced(model: Model, field: keyof Model & `${string}Price`): string {
  const source = model.priceSources?.[field];
  const value = money(model[field] as number | null);
  return source && source !== 'given' && model[field] !== null ? `${value} (${source})` : value;
}

/** The cache-price options of `create` and `update`. */
function withCachePriceOptions(command: Command): Command {
  return command
    .option(
      '--cached-input-price <usd>',
      'USD per million cached input tokens (cache reads; default: derived from the input price)',
      nonNegativeNumber,
    )
    .option(
      '--cache-write-price <usd>',
      'USD per million tokens written to the cache for 5 minutes (default: derived from the input price)',
      nonNegativeNumber,
    )
    .option(
      '--cache-write-1h-price <usd>',
      'USD per million tokens written to the cache for 1 hour (default: derived from the input price)',
      nonNegativeNumber,
    );
}

function targetLines(model: Model): string {
  const weighted = model.targets.length > 1;
  return model.targets
    .map((target) => `${target.credential} → ${target.upstreamModel}${weighted ? ` (weight ${target.weight})` : ''}`)
    .join('\n');
}

function describe(model: Model): string {
  return details([
    ['Name', model.name],
    ['ID', model.id],
    ['Targets', targetLines(model) || '—'],
    ['Input price (per 1M tokens)', priced(model, 'inputPrice')],
    ['Output price (per 1M tokens)', priced(model, 'outputPrice')],
    ['Cached input price (per 1M tokens)', priced(model, 'cachedInputPrice')],
    ['Cache write price, 5 min (per 1M tokens)', priced(model, 'cacheWriteInputPrice')],
    ['Cache write price, 1 hour (per 1M tokens)', priced(model, 'cacheWrite1hInputPrice')],
    ...(model.priceNotes?.length ? [['Price notes', model.priceNotes.join('\n')] as [string, string]] : []),
    ['Created', when(model.createdAt)],
    ['Updated', when(model.updatedAt)],
  ]);
}

function withModelOptions(command: Command): Command {
  return command
    .option('--credential <name>', 'credential of the single target')
    .option('--upstream-model <id>', "the provider's model id for the single target")
    .option(
      '--target <credential:model[@weight]>',
      'a target; repeat for load balancing across targets',
      collectTarget,
      [],
    );
}

const path = (ref: string) => `/api/v1/models/${encodeURIComponent(ref)}`;

export function modelCommands(program: Command): void {
  const models = program.command('models').description('Published models: public names mapped to provider targets');

  withCachePriceOptions(withModelOptions(subcommand(models, 'create', 'Publish a model')))
    .requiredOption('--name <name>', 'the public model name callers send')
    .option(
      '--input-price <usd>',
      'USD per million input tokens (default: from the price catalogue)',
      nonNegativeNumber,
    )
    .option(
      '--output-price <usd>',
      'USD per million output tokens (default: from the price catalogue)',
      nonNegativeNumber,
    )
    .action(async (options: TargetOptions & PriceOptions & JsonOption & { name: string }) => {
      const targets = targetsFrom(options);
      if (targets.length === 0) throw new Error('Give a target: --credential and --upstream-model, or --target');
      const body = { name: options.name, targets, ...prices(options) };
      const created = await AdminClient.fromEnv().call<Model>('POST', '/api/v1/models', { body });
      emit(options, created, () => `Published model "${created.name}".\n${describe(created)}`);
    });

  subcommand(models, 'list', 'List published models').action(async (options: JsonOption) => {
    const data = await AdminClient.fromEnv().get<{ models: Model[] }>('/api/v1/models');
    emit(options, data, () =>
      data.models.length === 0
        ? 'No models yet: publish one with `tollgate models create`.'
        : table(
            ['Name', 'Targets', 'Input $/1M', 'Output $/1M', 'Cache read $/1M', 'Cache write 5m / 1h $/1M'],
            data.models.map((model) => [
              model.name,
              targetLines(model),
              money(model.inputPrice),
              money(model.outputPrice),
              money(model.cachedInputPrice),
              `${money(model.cacheWriteInputPrice)} / ${money(model.cacheWrite1hInputPrice)}`,
            ]),
          ),
    );
  });

  subcommand(models, 'show', 'Show a model by name or id')
    .argument('<ref>', 'model name or id')
    .action(async (ref: string, options: JsonOption) => {
      const model = await AdminClient.fromEnv().get<Model>(path(ref));
      emit(options, model, () => describe(model));
    });

  withCachePriceOptions(withModelOptions(subcommand(models, 'update', 'Change prices, rename, or replace the targets')))
    .argument('<ref>', 'model name or id')
    .option('--name <name>', 'a new public name')
    .option('--input-price <usd>', 'USD per million input tokens', nonNegativeNumber)
    .option('--output-price <usd>', 'USD per million output tokens', nonNegativeNumber)
    .action(async (ref: string, options: TargetOptions & PriceOptions & JsonOption & { name?: string }) => {
      const targets = targetsFrom(options);
      const body = {
        ...(options.name !== undefined && { name: options.name }),
        ...(targets.length > 0 && { targets }),
        ...prices(options),
      };
      if (Object.keys(body).length === 0) throw new Error('Nothing to update: give --name, a price, or targets');
      const updated = await AdminClient.fromEnv().call<Model>('PATCH', path(ref), { body });
      emit(options, updated, () => `Updated model "${updated.name}".\n${describe(updated)}`);
    });

  subcommand(models, 'delete', 'Unpublish a model')
    .argument('<ref>', 'model name or id')
    .action(async (ref: string, options: JsonOption) => {
      await AdminClient.fromEnv().call('DELETE', path(ref));
      emit(options, { deleted: true, ref }, () => `Deleted model "${ref}".`);
    });
}
