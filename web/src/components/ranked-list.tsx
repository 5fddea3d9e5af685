import { Group, Paper, Progress, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { formatInteger, formatUsd } from '../lib/format.ts';
import type { Ranked } from '../lib/stats.ts';

/** The top few of something (keys, models) by cost, with a bar for each. */
export function RankedList({ title, items, empty }: { title: string; items: Ranked[]; empty: ReactNode }) {
  const top = Math.max(...items.map((item) => item.cost), 0);
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} fz="md" mb="sm">
        {title}
      </Title>
      {items.length === 0 ? (
        <Text size="sm" c="dimmed">
          {empty}
        </Text>
      ) : (
        <Stack gap="sm">
          {items.map((item) => (
            <div key={item.name}>
              <Group justify="space-between" gap="xs" wrap="nowrap">
                <Text size="sm" fw={500} truncate>
                  {item.name}
                </Text>
                <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                  {formatUsd(item.cost)}
                  <Text span size="xs" c="dimmed">
                    {' '}
                    · {formatInteger(item.requests)} req
                  </Text>
                </Text>
              </Group>
              <Progress value={top > 0 ? (item.cost / top) * 100 : 0} size="xs" mt={4} aria-hidden />
            </div>
          ))}
        </Stack>
      )}
    </Paper>
  );
}
