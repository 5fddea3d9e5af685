import { Button, Group, Paper, Table, Text, Tooltip } from '@mantine/core';
import { IconChevronLeft, IconChevronRight } from '@tabler/icons-react';
import type { UsageRecord } from '../../api/types.ts';
import { HttpStatusBadge } from '../../components/status-badge.tsx';
import { formatDateTime, formatInteger, formatMs, formatTimestamp, formatUsd } from '../../lib/format.ts';

/** Parts of a token count, dimmed after it: ` (1,024 cached, 300 cache write)`. */
function Parts({ parts }: { parts: Array<[number | undefined, string, string?]> }) {
  const shown = parts.filter(([value]) => (value ?? 0) > 0);
  if (shown.length === 0) return null;
  return (
    <Text span size="xs" c="dimmed">
      {' ('}
      {shown.map(([value, label, hint], index) => (
        <span key={label} title={hint}>
          {index > 0 && ', '}
          {formatInteger(value ?? 0)} {label}
        </span>
      ))}
      {')'}
    </Text>
  );
}

function cacheWriteLife(record: UsageRecord): string {
  const hour = record.cacheWrite1hTokens ?? 0;
  const five = record.cacheWriteTokens - hour;
  return `Written to the prompt cache: ${formatInteger(five)} for 5 minutes, ${formatInteger(hour)} for 1 hour`;
}

/** Marks figures Tollgate counted with a tokenizer because the provider reported no usage. */
function CountedMark({ record }: { record: UsageRecord }) {
  if (record.usageSource !== 'counted') return null;
  return (
    <Tooltip label="Counted with a tokenizer: the provider reported no usage">
      <Text span size="xs" c="orange" fw={600} mr={4} data-testid="usage-counted" aria-label="counted">
        ≈
      </Text>
    </Tooltip>
  );
}

export function UsageHistory({
  records,
  page,
  pageSize,
  total,
  hasOlder,
  loading,
  onNewer,
  onOlder,
}: {
  records: UsageRecord[];
  page: number;
  pageSize: number;
  total: number;
  hasOlder: boolean;
  loading: boolean;
  onNewer: () => void;
  onOlder: () => void;
}) {
  const first = page * pageSize + 1;
  const last = page * pageSize + records.length;
  return (
    <Paper withBorder radius="md">
      <Group justify="space-between" p="md" pb="xs">
        <Text fw={650}>Request history</Text>
        <Text size="sm" c="dimmed">
          {records.length === 0
            ? 'No requests'
            : `${formatInteger(first)}–${formatInteger(last)} of ${formatInteger(total)}`}
        </Text>
      </Group>
      <Table.ScrollContainer minWidth={980}>
        <Table aria-label="Request history" aria-busy={loading}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Time</Table.Th>
              <Table.Th>Key</Table.Th>
              <Table.Th>Model</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th ta="right">Input tokens</Table.Th>
              <Table.Th ta="right">Output tokens</Table.Th>
              <Table.Th ta="right">Cost</Table.Th>
              <Table.Th ta="right">Latency</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {records.map((record) => (
              <Table.Tr key={record.id} data-testid="usage-row" data-request-id={record.requestId}>
                <Table.Td>
                  <Tooltip label={`${formatDateTime(record.time)} · ${record.requestId}`}>
                    <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                      {formatTimestamp(record.time)}
                    </Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{record.keyName ?? '—'}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{record.model ?? '—'}</Text>
                  {record.provider && (
                    <Text size="xs" c="dimmed">
                      {record.provider}
                      {record.upstreamModel && record.upstreamModel !== record.model && ` · ${record.upstreamModel}`}
                      {record.streamed && ' · streamed'}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Tooltip label={record.errorCode ?? 'OK'} disabled={!record.errorCode}>
                    <span>
                      <HttpStatusBadge status={record.status} />
                    </span>
                  </Tooltip>
                </Table.Td>
                <Table.Td ta="right" data-testid="usage-input-tokens">
                  <CountedMark record={record} />
                  {formatInteger(record.promptTokens)}
                  <Parts
                    parts={[
                      [record.cachedTokens, 'cached'],
                      [record.cacheWriteTokens, 'cache write', cacheWriteLife(record)],
                    ]}
                  />
                </Table.Td>
                <Table.Td ta="right" data-testid="usage-output-tokens">
                  <CountedMark record={record} />
                  {formatInteger(record.completionTokens)}
                  <Parts parts={[[record.reasoningTokens, 'reasoning', 'Reasoning tokens, billed as output']]} />
                </Table.Td>
                <Table.Td ta="right" data-testid="usage-cost">
                  {formatUsd(record.costUsd)}
                </Table.Td>
                <Table.Td ta="right">{formatMs(record.latencyMs)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group justify="flex-end" p="sm" gap="xs">
        <Button
          variant="default"
          size="xs"
          leftSection={<IconChevronLeft size={14} />}
          disabled={page === 0 || loading}
          onClick={onNewer}
        >
          Newer
        </Button>
        <Button
          variant="default"
          size="xs"
          rightSection={<IconChevronRight size={14} />}
          disabled={!hasOlder || loading}
          onClick={onOlder}
        >
          Older
        </Button>
      </Group>
    </Paper>
  );
}
