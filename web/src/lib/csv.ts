import type { UsageRecord } from '../api/types.ts';

const COLUMNS: Array<keyof UsageRecord> = [
  'time',
  'requestId',
  'keyName',
  'keyId',
  'projectId',
  'userId',
  'endpoint',
  'model',
  'provider',
  'upstreamModel',
  'status',
  'errorCode',
  'promptTokens',
  'completionTokens',
  'cachedTokens',
  'cacheWriteTokens',
  'cacheWrite1hTokens',
  'reasoningTokens',
  'usageSource',
  'costUsd',
  'latencyMs',
  'ttftMs',
  'streamed',
];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // Quote what would break a row, and defuse spreadsheet formulas.
  const safe = /^[=+\-@]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function usageCsv(records: UsageRecord[]): string {
  const lines = [COLUMNS.join(',')];
  for (const record of records) lines.push(COLUMNS.map((column) => cell(record[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function download(filename: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
