import { Alert, Button, Grid, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconArrowRight, IconInfoCircle } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useMemo } from 'react';
import { keys, useApiKeys, useModels, useOrganization } from '../api/queries.ts';
import { usePermissions, useSession } from '../auth/session.ts';
import { PageHeader } from '../components/page-header.tsx';
import { ErrorState } from '../components/query-state.tsx';
import { RankedList } from '../components/ranked-list.tsx';
import { StatCard } from '../components/stat-card.tsx';
import { formatCompact, formatDate, formatInteger, formatPercent, formatUsd } from '../lib/format.ts';
import { fetchRecords } from '../lib/sample.ts';
import { rank } from '../lib/stats.ts';

/** Records read to rank keys and models; the totals always cover the whole period. */
const SAMPLE = 5000;

function monthStart(): Date {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), 1);
}

export function OverviewPage() {
  const me = useSession();
  const can = usePermissions();
  const since = useMemo(() => monthStart(), []);
  const usage = useQuery({
    queryKey: [...keys.usage, 'overview', since.toISOString()],
    queryFn: () => fetchRecords({ since: since.toISOString() }, SAMPLE),
  });
  const apiKeys = useApiKeys();
  const models = useModels();
  const organization = useOrganization(can.seeAdminPages);

  const totals = usage.data?.totals;
  const records = usage.data?.records ?? [];
  const errorRate = totals && totals.requests > 0 ? totals.errors / totals.requests : 0;
  const activeKeys = (apiKeys.data ?? []).filter((key) => key.status === 'active').length;
  const orgPeriod = organization.data?.spend?.period;
  const orgRecurring = organization.data?.spendLimit.recurring;
  const firstSteps = models.data?.length === 0 || apiKeys.data?.length === 0;

  return (
    <>
      <PageHeader
        title={`Welcome${me.user.name ? `, ${me.user.name}` : ''}`}
        description={`${can.manage ? 'Your organisation' : 'Your keys'} since ${formatDate(since.toISOString())}.`}
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
          <RankedList
            title="Top keys by spend"
            items={rank(records, (record) => record.keyName)}
            empty="No requests this month yet."
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 6 }}>
          <RankedList
            title="Top models by spend"
            items={rank(records, (record) => record.model)}
            empty="No requests this month yet."
          />
        </Grid.Col>
      </Grid>
      {usage.data?.truncated && (
        <Text size="xs" c="dimmed" mt="xs">
          Rankings use the latest {formatInteger(SAMPLE)} requests of the month; totals cover all of them.
        </Text>
      )}
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
