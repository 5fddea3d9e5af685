import Table from 'cli-table3';
import type { Command } from 'commander';

/** Every admin command takes `--json`: the API's JSON on stdout, nothing else. */
export interface JsonOption {
  json?: boolean;
}

/** A leaf command under `parent`, with the `--json` option every admin command shares. */
export function subcommand(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).option('--json', 'print the API response as JSON (for scripts)');
}

/** Prints `data` as JSON with `--json`, otherwise the human rendering. */
export function emit(options: JsonOption, data: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

type Cell = string | number;

/** A plain table: no colours, so it reads the same in a terminal, a pipe or a log. */
export function table(head: string[], rows: Cell[][]): string {
  const rendered = new Table({ head, style: { head: [], border: [] } });
  rendered.push(...rows);
  return rendered.toString();
}

/** A two-column table of labelled values, for `show` commands. */
export function details(pairs: Array<[string, Cell]>): string {
  const rendered = new Table({ style: { head: [], border: [] } });
  for (const [label, value] of pairs) rendered.push({ [label]: value });
  return rendered.toString();
}

/** US dollars: `$1.50`, `$0.000123`; six decimals at most. */
export function money(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '—';
  if (usd === 0) return '$0.00';
  const sign = usd < 0 ? '-' : '';
  const amount = Math.abs(usd);
  if (amount >= 1) return `${sign}$${amount.toFixed(2)}`;
  if (amount < 0.000_001) return `${sign}<$0.000001`;
  const digits = amount.toFixed(6).replace(/0+$/, '');
  return `${sign}$${/\.\d$/.test(digits) ? `${digits}0` : digits}`;
}

/** An ISO time without milliseconds, or `fallback` when there is none. */
export function when(iso: string | null | undefined, fallback = '—'): string {
  return iso ? iso.replace(/\.\d+Z$/, 'Z') : fallback;
}

export function count(value: number | null | undefined): string {
  return (value ?? 0).toLocaleString('en-US');
}
