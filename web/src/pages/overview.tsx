import { Alert, Button, Grid, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconArrowRight, IconInfoCircle } from '@tabler/icons-react';
import { Link } from '@tanstack/react-router';
import { useMemo } from 'react';
import { useApiKeys, useModels, useOrganization, useUsageTop, useUsageTotals } from '../api/queries.ts';
import type { UsageTop } from '../api/types.ts';
import { usePermissions, useSession } from '../auth/session.ts';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorState } from '../components/query-state.tsx';
import { RankedList } from '../components/ranked-list.tsx';
import { StatCard } from '../components/stat-card.tsx';
import { formatCompact, formatDate, formatInteger, formatPercent, formatUsd } from '../lib/format.ts';
import type { Ranked } from '../lib/stats.ts';

/** How many keys and models the overview ranks. */
const TOP = 5;

function monthStart(): Date {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), 1);
}

/** Rows of /api/v1/usage/top as the ranked list shows them; names told apart when two are alike. */
function ranked(rows: UsageTop['rows'] | undefined, unnamed: string): Ranked[] {
  const list = rows ?? [];
  const counts = new Map<string, number>();
  for (const row of list) counts.set(row.name ?? unnamed, (counts.get(row.name ?? unnamed) ?? 0) + 1);
  return list.map((row) => {
    const name = row.name ?? unnamed;
    return {
      name: (counts.get(name) ?? 0) > 1 && row.id ? `${name} (${row.id.slice(0, 8)})` : name,
      requests: row.requests,
      cost: row.costUsd,
      tokens: row.promptTokens + row.completionTokens,
    };
  });
}

export function OverviewPage() {
  const me = useSession();
  const can = usePermissions();
  const since = useMemo(() => monthStart(), []);
  const period = useMemo(() => ({ since: since.toISOString() }), [since]);
  const usage = useUsageTotals(period);
  const topKeys = useUsageTop('key', period, TOP);
  const topModels = useUsageTop('model', period, TOP);
  const apiKeys = useApiKeys();
  const models = useModels();
  const organization = useOrganization(can.seeAdminPages);

  const totals = usage.data;
  const errorRate = totals && totals.requests > 0 ? totals.errors / totals.requests : 0;
  const activeKeys = (apiKeys.data ?? []).filter((key) => key.status === 'active').length;
  const orgPeriod = organization.data?.spend?.period;
  const orgRecurring = organization.data?.spendLimit.recurring;
  const firstSteps = models.data?.length === 0 || apiKeys.data?.length === 0;

  return (
    <>
      <PageHeader
        title={`Welcome${me.user.name ? `, ${me.user.name}` : ''}`}
        description={`${can.manage ? 'Your organisation' : 'Your keys'} this month, since ${formatDate(since.toISOString())}.`}
      />
      {firstSteps && (
        <Alert icon={<IconInfoCircle size={18} />} mb="lg" title="Getting started" variant="light">
          <Stack gap={6}>
            {can.manage && models.data?.length === 0 && (
              <Text size="sm">
                1. Add a <Link to="/credentials">provider credential</Link>, then publish a{' '}
                <Link to="/models">model</Link> that uses it.
              </Text>
            )}
            {apiKeys.data?.length === 0 && (
              <Text size="sm">
                {can.manage ? '2. ' : ''}Create an <Link to="/keys">API key</Link> and point any OpenAI-compatible
                client at {window.location.origin}/v1.
              </Text>
            )}
          </Stack>
        </Alert>
      )}
      {usage.error && <ErrorState error={usage.error} onRetry={() => usage.refetch()} />}
      <SimpleGrid cols={{ base: 1, xs: 2, lg: 4 }} spacing="md" mb="md">
        <StatCard
          label="Spend this month"
          loading={usage.isPending}
          value={formatUsd(totals?.costUsd ?? 0)}
          hint={
            orgRecurring && orgPeriod
              ? `Organisation limit: ${formatUsd(orgPeriod.spentUsd)} of ${formatUsd(orgRecurring.usd)} this period`
              : 'Across every key'
          }
        />
        <StatCard
          label="Requests"
          loading={usage.isPending}
          value={formatInteger(totals?.requests ?? 0)}
          hint={`${formatCompact((totals?.promptTokens ?? 0) + (totals?.completionTokens ?? 0))} tokens`}
        />
        <StatCard
          label="Error rate"
          loading={usage.isPending}
          value={formatPercent(errorRate)}
          hint={`${formatInteger(totals?.errors ?? 0)} failed requests`}
        />
        <StatCard
          label="Active keys"
          loading={apiKeys.isPending}
          value={formatInteger(activeKeys)}
          hint={`${formatInteger(apiKeys.data?.length ?? 0)} ${apiKeys.data?.length === 1 ? 'key' : 'keys'} in all`}
        />
      </SimpleGrid>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 6 }}>
          {topKeys.error ? (
            <ErrorState error={topKeys.error} onRetry={() => topKeys.refetch()} />
          ) : (
            <RankedList
              title="Top keys by spend"
              items={ranked(topKeys.data, '(no key)')}
              empty="No requests this month yet."
            />
          )}
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          {topModels.error ? (
            <ErrorState error={topModels.error} onRetry={() => topModels.refetch()} />
          ) : (
            <RankedList
              title="Top models by spend"
              items={ranked(topModels.data, '(no model)')}
              empty="No requests this month yet."
            />
          )}
        </Grid.Col>
      </Grid>
      <Paper withBorder radius="md" p="md" mt="md">
        <Group justify="space-between">
          <div>
            <Title order={2} fz="md">
              Usage in detail
            </Title>
            <Text size="sm" c="dimmed">
              Requests, tokens, cost and latency over time, by key, model or provider, with CSV export.
            </Text>
          </div>
          <Button component={Link} to="/usage" variant="light" rightSection={<IconArrowRight size={16} />}>
            Open usage
          </Button>
        </Group>
      </Paper>
    </>
  );
}
