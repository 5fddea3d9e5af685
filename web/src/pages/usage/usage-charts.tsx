import { AreaChart, BarChart, LineChart } from '@mantine/charts';
import { Paper, SimpleGrid, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import type { UsageBucketSize, UsageSeries } from '../../api/types.ts';
import { formatCompact, formatMs, formatUsd } from '../../lib/format.ts';

/** Tollgate's day buckets start at midnight UTC, so days are named in UTC. */
function label(start: string, bucket: UsageBucketSize): string {
  const date = new Date(start);
  if (bucket === '1d') return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  if (bucket === '1h') return date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
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

/** Requests, tokens, cost and latency over time, as Tollgate sums them per bucket. */
export function UsageCharts({ series }: { series: UsageSeries }) {
  const data = series.buckets.map((bucket) => ({
    time: label(bucket.start, series.bucket),
    Requests: bucket.requests - bucket.errors,
    Errors: bucket.errors,
    Input: bucket.promptTokens,
    Output: bucket.completionTokens,
    Cost: Number(bucket.costUsd.toFixed(6)),
    p50: bucket.latencyP50Ms,
    p95: bucket.latencyP95Ms,
  }));
  const common = { h: 200, dataKey: 'time', withLegend: true, tickLine: 'none', gridAxis: 'y' } as const;
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md" mb="md">
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
      <ChartCard title="Latency">
        <LineChart
          {...common}
          data={data}
          curveType="monotone"
          series={[
            { name: 'p50', color: 'blue.6' },
            { name: 'p95', color: 'orange.6' },
          ]}
          valueFormatter={formatMs}
          // Buckets without requests have no latency: the line joins the buckets around them,
          // and dots show where there were requests (a lone bucket would draw no line).
          dotProps={{ r: 2 }}
        />
      </ChartCard>
    </SimpleGrid>
  );
}
