import type { Command } from 'commander';
import { AdminClient } from '../client.ts';
import { resolveKeyId } from '../key-ref.ts';
import { count, emit, type JsonOption, money, subcommand, table, when } from '../output.ts';
import { positiveInteger } from '../parse-options.ts';

interface UsageRecord {
  id: number;
  time: string;
  keyName: string | null;
  model: string | null;
  provider: string | null;
  status: number;
  errorCode: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  usageSource: 'reported' | 'counted' | null;
  costUsd: number;
  latencyMs: number;
}

interface UsagePage {
  records: UsageRecord[];
  totals: {
    requests: number;
    errors: number;
    promptTokens: number;
    completionTokens: number;
    cachedTokens: number;
    cacheWriteTokens: number;
    reasoningTokens: number;
    countedRequests: number;
    costUsd: number;
  };
  nextCursor: number | null;
}

interface UsageOptions extends JsonOption {
  key?: string;
  model?: string;
  project?: string;
  provider?: string;
  status?: number;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: number;
}

/** A count with its parts: `1,200 (800 cache read, 300 cache write)`. */
function withParts(total: number, parts: Array<[number | undefined, string]>): string {
  const shown = parts.filter(([value]) => (value ?? 0) > 0).map(([value, label]) => `${count(value)} ${label}`);
  return shown.length === 0 ? count(total) : `${count(total)} (${shown.join(', ')})`;
}

/** Counted figures (the provider reported none) are marked with a tilde. */
const counted = (record: UsageRecord, text: string) => (record.usageSource === 'counted' ? `~${text}` : text);

function render(page: UsagePage): string {
  const { totals } = page;
  const lines = [
    page.records.length === 0
      ? 'No usage records match.'
      : table(
          ['Time', 'Key', 'Model', 'Provider', 'Status', 'Prompt', 'Completion', 'Cost', 'Latency ms'],
          page.records.map((record) => [
            when(record.time),
            record.keyName ?? '—',
            record.model ?? '—',
            record.provider ?? '—',
            record.errorCode ? `${record.status} ${record.errorCode}` : record.status,
            counted(
              record,
              withParts(record.promptTokens, [
                [record.cachedTokens, 'cache read'],
                [record.cacheWriteTokens, 'cache write'],
              ]),
            ),
            counted(record, withParts(record.completionTokens, [[record.reasoningTokens, 'reasoning']])),
            money(record.costUsd),
            Math.round(record.latencyMs),
          ]),
        ),
    `Total: ${count(totals.requests)} requests (${count(totals.errors)} failed), ` +
      `${withParts(totals.promptTokens, [
        [totals.cachedTokens, 'cache read'],
        [totals.cacheWriteTokens, 'cache write'],
      ])} prompt + ` +
      `${withParts(totals.completionTokens, [[totals.reasoningTokens, 'reasoning']])} completion tokens, ` +
      `${money(totals.costUsd)}`,
  ];
  if (page.records.some((record) => record.usageSource === 'counted') || totals.countedRequests > 0) {
    lines.push(
      `~ counted with a tokenizer: the provider reported no usage (${count(totals.countedRequests)} of the requests)`,
    );
  }
  if (page.nextCursor !== null) lines.push(`More records: add --cursor ${page.nextCursor}`);
  return lines.join('\n');
}

export function usageCommands(program: Command): void {
  const usage = program.command('usage').description('Usage records: every request, its tokens and cost');

  subcommand(usage, 'list', 'Usage records, newest first, with totals for the same filters')
    .option('--key <id>', 'only this API key (id, or its name if unique)')
    .option('--model <name>', 'only this published model')
    .option('--project <ref>', 'only this project (name or id)')
    .option('--provider <id>', 'only this provider')
    .option('--status <code>', 'only this HTTP status', positiveInteger)
    .option('--since <time>', 'ISO time or a duration back from now (15m, 24h, 7d)')
    .option('--until <time>', 'ISO time or a duration back from now')
    .option('--limit <n>', 'records per page, 1 to 1000 (default 100)', positiveInteger)
    .option('--cursor <n>', 'the cursor printed with the previous page', positiveInteger)
    .action(async (options: UsageOptions) => {
      const client = AdminClient.fromEnv();
      const page = await client.get<UsagePage>('/api/v1/usage', {
        key: options.key === undefined ? undefined : await resolveKeyId(client, options.key),
        model: options.model,
        project: options.project,
        provider: options.provider,
        status: options.status,
        since: options.since,
        until: options.until,
        limit: options.limit,
        cursor: options.cursor,
      });
      emit(options, page, () => render(page));
    });
}
