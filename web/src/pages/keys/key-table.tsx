import { Badge, Code, Group, Progress, Stack, Table, Text, Tooltip, VisuallyHidden } from '@mantine/core';
import { IconShieldLock } from '@tabler/icons-react';
import { useState } from 'react';
import type { ApiKey } from '../../api/types.ts';
import { ariaSort, type Sort, SortHeader } from '../../components/sort-header.tsx';
import { KeyStatusBadge } from '../../components/status-badge.tsx';
import { formatDate, formatDateTime, formatInteger, formatRelative, formatUsd } from '../../lib/format.ts';
import { describeWindow } from '../../lib/windows.ts';
import { KeyActions, type KeyDialog } from './key-actions.tsx';
import { describeRules } from './policy-form.ts';

export type KeyColumn = 'name' | 'created' | 'spend' | 'lastUsed';

const SORTERS: Record<KeyColumn, (key: ApiKey) => number | string> = {
  name: (key) => key.name.toLowerCase(),
  created: (key) => key.createdAt,
  spend: (key) => key.spend?.allTimeUsd ?? 0,
  lastUsed: (key) => key.lastUsedAt ?? '',
};

export function sortKeys(list: ApiKey[], sort: Sort<KeyColumn>): ApiKey[] {
  const value = SORTERS[sort.by];
  return [...list].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = x < y ? -1 : x > y ? 1 : 0;
    return sort.descending ? -order : order;
  });
}

function CurrentPeriod({ apiKey }: { apiKey: ApiKey }) {
  const period = apiKey.spend?.period;
  const recurring = apiKey.spendLimit.recurring;
  if (!period || !recurring) {
    return (
      <Text size="sm" c="dimmed">
        —
      </Text>
    );
  }
  const share = recurring.usd > 0 ? Math.min(100, (period.spentUsd / recurring.usd) * 100) : 100;
  return (
    <Stack gap={4} miw={130}>
      <Text size="sm">
        {formatUsd(period.spentUsd)}{' '}
        <Text span c="dimmed" size="sm">
          of {formatUsd(recurring.usd)}
        </Text>
      </Text>
      <Progress
        value={share}
        size="sm"
        color={share >= 100 ? 'red' : share >= 80 ? 'orange' : 'indigo'}
        aria-label="Share of this period's limit spent"
      />
      <Tooltip label={`${formatDateTime(period.start)} – ${formatDateTime(period.end)}`}>
        <Text size="xs" c="dimmed">
          resets {formatRelative(period.end)}
        </Text>
      </Tooltip>
    </Stack>
  );
}

function RulesBadge({ apiKey }: { apiKey: ApiKey }) {
  return (
    <Tooltip multiline w={280} label={describeRules(apiKey.rules).map((line) => <div key={line}>{line}</div>)}>
      <Badge
        variant="light"
        color="violet"
        leftSection={<IconShieldLock size={12} />}
        tabIndex={0}
        tt="none"
        data-testid="iam-rules-badge"
      >
        IAM rules
      </Badge>
    </Tooltip>
  );
}

/** Spend and rate limits, then the IAM-rules badge when the key has rules. */
function LimitsAndRules({ apiKey }: { apiKey: ApiKey }) {
  const lines: string[] = [];
  const { allTimeUsd, recurring } = apiKey.spendLimit;
  if (allTimeUsd != null) lines.push(`${formatUsd(allTimeUsd)} all-time`);
  if (recurring) lines.push(`${formatUsd(recurring.usd)} per ${describeWindow(recurring.count, recurring.unit)}`);
  const { rpm, tpm, maxParallel } = apiKey.rateLimits;
  if (rpm) lines.push(`${formatInteger(rpm)} req/min`);
  if (tpm) lines.push(`${formatInteger(tpm)} tokens/min`);
  if (maxParallel) lines.push(`${formatInteger(maxParallel)} at once`);
  return (
    <Stack gap={2} align="flex-start">
      {lines.length === 0 && !apiKey.hasRules && (
        <Text size="sm" c="dimmed">
          None
        </Text>
      )}
      {lines.map((line) => (
        <Text size="sm" key={line} style={{ whiteSpace: 'nowrap' }}>
          {line}
        </Text>
      ))}
      {apiKey.hasRules && <RulesBadge apiKey={apiKey} />}
    </Stack>
  );
}

export function KeyTable({
  list,
  sort,
  onSort,
  onDialog,
}: {
  list: ApiKey[];
  sort: Sort<KeyColumn>;
  onSort: (sort: Sort<KeyColumn>) => void;
  onDialog: (dialog: KeyDialog) => void;
}) {
  const [now] = useState(() => Date.now());
  return (
    <Table.ScrollContainer minWidth={940}>
      <Table aria-label="API keys">
        <Table.Thead>
          <Table.Tr>
            <Table.Th aria-sort={ariaSort(sort, 'name')}>
              <SortHeader label="Name" column="name" sort={sort} onSort={onSort} />
            </Table.Th>
            <Table.Th>Key</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th aria-sort={ariaSort(sort, 'created')}>
              <SortHeader label="Created" column="created" sort={sort} onSort={onSort} />
            </Table.Th>
            <Table.Th aria-sort={ariaSort(sort, 'spend')}>
              <SortHeader label="Usage" column="spend" sort={sort} onSort={onSort} />
            </Table.Th>
            <Table.Th>Current period</Table.Th>
            <Table.Th>Limits &amp; rules</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.map((apiKey) => {
            const expired = apiKey.expiresAt !== null && Date.parse(apiKey.expiresAt) <= now;
            return (
              <Table.Tr key={apiKey.id} data-testid={`key-row-${apiKey.name}`}>
                <Table.Td>
                  <Text size="sm" fw={600}>
                    {apiKey.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {apiKey.project}
                    {apiKey.expiresAt && ` · ${expired ? 'expired' : 'expires'} ${formatDate(apiKey.expiresAt)}`}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Code style={{ whiteSpace: 'nowrap' }}>{apiKey.preview}</Code>
                </Table.Td>
                <Table.Td>
                  <KeyStatusBadge status={apiKey.status} expired={expired} />
                </Table.Td>
                <Table.Td>
                  <Tooltip label={formatDateTime(apiKey.createdAt)}>
                    <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                      {formatDate(apiKey.createdAt)}
                    </Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{formatUsd(apiKey.spend?.allTimeUsd ?? 0)}</Text>
                  <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                    {apiKey.lastUsedAt ? `used ${formatRelative(apiKey.lastUsedAt)}` : 'never used'}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <CurrentPeriod apiKey={apiKey} />
                </Table.Td>
                <Table.Td>
                  <LimitsAndRules apiKey={apiKey} />
                </Table.Td>
                <Table.Td>
                  <Group justify="flex-end">
                    <KeyActions apiKey={apiKey} onDialog={onDialog} />
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
