import { AreaChart, BarChart } from '@mantine/charts';
import { Paper, SimpleGrid, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { formatCompact, formatUsd } from '../../lib/format.ts';
import type { Bucket } from '../../lib/stats.ts';

const DAY = 86_400_000;

function label(time: number, size: number): string {
  const date = new Date(time);
  if (size >= DAY) return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (size >= 3_600_000 * 3) {
    return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
  }
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

function ChartCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} fz="sm" mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

export function UsageCharts({ buckets, size }: { buckets: Bucket[]; size: number }) {
  const data = buckets.map((bucket) => ({
    time: label(bucket.time, size),
    Requests: bucket.requests - bucket.errors,
    Errors: bucket.errors,
    Input: bucket.inputTokens,
    Output: bucket.outputTokens,
    Cost: Number(bucket.cost.toFixed(6)),
  }));
  const common = { h: 200, dataKey: 'time', withLegend: true, tickLine: 'none', gridAxis: 'y' } as const;
  return (
    <SimpleGrid cols={{ base: 1, lg: 3 }} spacing="md" mb="md">
      <ChartCard title="Requests">
        <BarChart
          {...common}
          data={data}
          type="stacked"
          yAxisProps={{ allowDecimals: false }}
          series={[
            { name: 'Requests', label: 'Succeeded', color: 'indigo.6' },
            { name: 'Errors', color: 'red.6' },
          ]}
          valueFormatter={formatCompact}
        />
      </ChartCard>
      <ChartCard title="Tokens">
        <AreaChart
          {...common}
          data={data}
          type="stacked"
          curveType="monotone"
          yAxisProps={{ allowDecimals: false }}
          series={[
            { name: 'Input', color: 'cyan.6' },
            { name: 'Output', color: 'violet.6' },
          ]}
          valueFormatter={formatCompact}
          withDots={false}
        />
      </ChartCard>
      <ChartCard title="Cost">
        <AreaChart
          {...common}
          data={data}
          curveType="monotone"
          series={[{ name: 'Cost', color: 'teal.6' }]}
          valueFormatter={formatUsd}
          withDots={false}
        />
      </ChartCard>
    </SimpleGrid>
  );
}
