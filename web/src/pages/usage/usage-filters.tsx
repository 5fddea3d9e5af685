import { Button, Group, SegmentedControl, Select } from '@mantine/core';
import { IconX } from '@tabler/icons-react';
import { useApiKeys, useModels, useProjects, useProviders } from '../../api/queries.ts';
import { RANGES, type RangeId, type UsageSearch } from './search.ts';

const STATUSES = [200, 400, 401, 402, 403, 404, 429, 500, 502, 503, 504].map((status) => ({
  value: String(status),
  label: String(status),
}));

export function UsageFilters({
  search,
  range,
  onChange,
}: {
  search: UsageSearch;
  range: RangeId;
  onChange: (next: UsageSearch) => void;
}) {
  const apiKeys = useApiKeys();
  const projects = useProjects();
  const models = useModels();
  const providers = useProviders();
  const set = (name: keyof UsageSearch, value: string | number | undefined) =>
    onChange({ ...search, [name]: value === '' ? undefined : value });
  const common = {
    clearable: true,
    searchable: true,
    w: { base: '100%', xs: 200 },
    comboboxProps: { withinPortal: true },
  };
  const filtered = Boolean(search.key || search.project || search.model || search.provider || search.status);

  // A key, model or provider named in the link stays selectable even when no longer listed.
  const withCurrent = (options: Array<{ value: string; label: string }>, current: string | undefined) =>
    current && !options.some((option) => option.value === current)
      ? [...options, { value: current, label: current }]
      : options;

  return (
    <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
      <Select
        label="API key"
        placeholder="All keys"
        data={withCurrent(
          (apiKeys.data ?? []).map((key) => ({ value: key.id, label: `${key.name} (${key.preview})` })),
          search.key,
        )}
        value={search.key ?? null}
        onChange={(value) => set('key', value ?? undefined)}
        {...common}
        w={{ base: '100%', xs: 280 }}
      />
      <Select
        label="Project"
        placeholder="All projects"
        data={(projects.data ?? []).map((project) => ({ value: project.id, label: project.name }))}
        value={search.project ?? null}
        onChange={(value) => set('project', value ?? undefined)}
        {...common}
      />
      <Select
        label="Model"
        placeholder="All models"
        data={withCurrent(
          (models.data ?? []).map((model) => ({ value: model.name, label: model.name })),
          search.model,
        )}
        value={search.model ?? null}
        onChange={(value) => set('model', value ?? undefined)}
        {...common}
      />
      <Select
        label="Provider"
        placeholder="All providers"
        data={withCurrent(
          (providers.data ?? []).map((provider) => ({ value: provider.id, label: provider.label })),
          search.provider,
        )}
        value={search.provider ?? null}
        onChange={(value) => set('provider', value ?? undefined)}
        {...common}
      />
      <Select
        label="Status"
        placeholder="Any status"
        data={withCurrent(STATUSES, search.status === undefined ? undefined : String(search.status))}
        value={search.status === undefined ? null : String(search.status)}
        onChange={(value) => set('status', value ? Number(value) : undefined)}
        {...common}
        w={{ base: '100%', xs: 130 }}
      />
      <SegmentedControl
        aria-label="Time range"
        value={range}
        onChange={(value) => onChange({ ...search, range: value as RangeId })}
        data={RANGES.map((candidate) => ({ value: candidate.value, label: candidate.value }))}
      />
      {filtered && (
        <Button
          variant="subtle"
          color="gray"
          leftSection={<IconX size={14} />}
          onClick={() => onChange(search.range ? { range: search.range } : {})}
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
