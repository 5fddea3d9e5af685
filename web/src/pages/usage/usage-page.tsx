import { Box, Button, SimpleGrid } from '@mantine/core';
import { IconChartBar, IconDownload } from '@tabler/icons-react';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { type UsageFilters as Filters, useUsagePage, useUsageSeries } from '../../api/queries.ts';
import type { UsageTotals } from '../../api/types.ts';
import { EmptyState } from '../../components/empty-state.tsx';
import { notifyError } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { ErrorState, Loading } from '../../components/query-state.tsx';
import { StatCard } from '../../components/stat-card.tsx';
import { download, usageCsv } from '../../lib/csv.ts';
import { formatCompact, formatInteger, formatMs, formatPercent, formatUsd } from '../../lib/format.ts';
import { fetchRecords } from '../../lib/sample.ts';
import { DEFAULT_RANGE, RANGES, type UsageSearch } from './search.ts';
import { UsageCharts } from './usage-charts.tsx';
import { UsageFilters } from './usage-filters.tsx';
import { UsageHistory } from './usage-history.tsx';

const route = getRouteApi('/signed-in/usage');
/** Records a CSV export may hold. */
const EXPORT_CAP = 100_000;
const PAGE = 25;

/** Cache reads and writes within the input tokens: `1.2M cache read · 30K cache write`. */
function cacheHint(totals: UsageTotals | undefined): string | undefined {
  const parts = [
    totals?.cachedTokens ? `${formatCompact(totals.cachedTokens)} cache read` : '',
    totals?.cacheWriteTokens ? `${formatCompact(totals.cacheWriteTokens)} cache write` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

export function UsagePage() {
  const search = route.useSearch();
  const navigate = useNavigate();
  const range = search.range ?? DEFAULT_RANGE;
  const bucket = RANGES.find((candidate) => candidate.value === range)?.bucket ?? '1h';
  const filters: Filters = useMemo(
    () => ({
      key: search.key,
      project: search.project,
      model: search.model,
      provider: search.provider,
      status: search.status,
      since: range,
    }),
    [search.key, search.project, search.model, search.provider, search.status, range],
  );
  // Cursors of the pages seen so far; the first page has none.
  const [cursors, setCursors] = useState<Array<number | undefined>>([undefined]);
  const [exporting, setExporting] = useState(false);
  const page = cursors.length - 1;
  // Totals (with latency percentiles) come with every page of the history; the charts from
  // Tollgate's time series. Both cover every matching request.
  const history = useUsagePage(filters, cursors[page], PAGE);
  const series = useUsageSeries(filters, bucket);

  const setSearch = (next: UsageSearch) => {
    setCursors([undefined]);
    void navigate({ to: '/usage', search: next, replace: true });
  };

  async function exportCsv() {
    setExporting(true);
    try {
      const { records, truncated } = await fetchRecords(filters, EXPORT_CAP);
      download(`tollgate-usage-${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.csv`, usageCsv(records));
      if (truncated)
        notifyError(
          new Error(`The export holds the latest ${formatInteger(EXPORT_CAP)} records only.`),
          'Export cut short',
        );
    } catch (error) {
      notifyError(error, 'Export failed');
    } finally {
      setExporting(false);
    }
  }

  const totals = history.data?.totals;
  const empty = totals?.requests === 0;

  return (
    <>
      <PageHeader
        title="Usage"
        description="Every request through the gateway: who made it, which model answered, what it cost."
        actions={
          <Button
            variant="default"
            leftSection={<IconDownload size={16} />}
            onClick={exportCsv}
            loading={exporting}
            disabled={empty}
          >
            Export CSV
          </Button>
        }
      />
      <UsageFilters search={search} range={range} onChange={setSearch} />
      {history.error ? (
        <ErrorState error={history.error} onRetry={() => history.refetch()} />
      ) : (
        <>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3, xl: 6 }} spacing="md" mb="md">
            <StatCard
              label="Requests"
              loading={!totals}
              value={formatInteger(totals?.requests ?? 0)}
              hint={
                totals?.countedRequests
                  ? `${formatInteger(totals.countedRequests)} with counted tokens (no usage reported)`
                  : undefined
              }
            />
            <StatCard
              label="Errors"
              loading={!totals}
              value={formatInteger(totals?.errors ?? 0)}
              hint={totals?.requests ? `${formatPercent(totals.errors / totals.requests)} of requests` : undefined}
            />
            <StatCard
              label="Input tokens"
              loading={!totals}
              value={formatCompact(totals?.promptTokens ?? 0)}
              hint={cacheHint(totals)}
            />
            <StatCard
              label="Output tokens"
              loading={!totals}
              value={formatCompact(totals?.completionTokens ?? 0)}
              hint={totals?.reasoningTokens ? `${formatCompact(totals.reasoningTokens)} reasoning` : undefined}
            />
            <StatCard label="Cost" loading={!totals} value={formatUsd(totals?.costUsd ?? 0)} />
            <StatCard
              label="Latency p50 / p95"
              loading={!totals}
              value={
                totals?.latencyP50Ms === null || totals?.latencyP50Ms === undefined
                  ? '—'
                  : `${formatMs(totals.latencyP50Ms)} / ${formatMs(totals.latencyP95Ms)}`
              }
              hint="Gateway to last byte"
            />
          </SimpleGrid>
          {empty ? (
            <EmptyState icon={<IconChartBar size={24} />} title="No requests in this range">
              Widen the time range or clear the filters. Requests made with any API key show up here within a second.
            </EmptyState>
          ) : (
            <>
              {series.error ? (
                <Box mb="md">
                  <ErrorState error={series.error} onRetry={() => series.refetch()} />
                </Box>
              ) : (
                series.data && <UsageCharts series={series.data} />
              )}
              {history.data ? (
                <UsageHistory
                  records={history.data.records}
                  page={page}
                  pageSize={PAGE}
                  total={history.data.totals.requests}
                  hasOlder={history.data.nextCursor !== null}
                  loading={history.isFetching}
                  onNewer={() => setCursors((list) => list.slice(0, -1))}
                  onOlder={() => setCursors((list) => [...list, history.data?.nextCursor ?? undefined])}
                />
              ) : (
                <Loading />
              )}
            </>
          )}
        </>
      )}
    </>
  );
}
