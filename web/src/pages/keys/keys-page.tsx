import {
  Button,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconKey, IconPlus, IconSearch } from '@tabler/icons-react';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { useApiKeys, useProjects } from '../../api/queries.ts';
import type { ApiKeyWithSecret, KeyStatus, Project } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.ts';
import { EmptyState } from '../../components/empty-state.tsx';
import { PageHeader } from '../../components/page-header.tsx';
import { ErrorState, Loading } from '../../components/query-state.tsx';
import type { Sort } from '../../components/sort-header.tsx';
import { CreateKeyModal } from './create-key-modal.tsx';
import { EditLimitsModal, EditRulesModal } from './edit-policy-modals.tsx';
import type { KeyDialog } from './key-actions.tsx';
import { KeyRevealModal } from './key-reveal-modal.tsx';
import { type KeyColumn, KeyTable, sortKeys } from './key-table.tsx';

const route = getRouteApi('/signed-in/keys');
const PLAN_LABELS: Record<Project['plan'], string> = { free: 'Free', pro: 'Pro', enterprise: 'Enterprise' };

/** Why a key cannot be created right now, or undefined when it can. */
function createBlocked(projects: Project[], selected: Project | undefined, canWrite: boolean): string | undefined {
  if (!canWrite) return 'Viewers can read keys but not create them.';
  if (projects.length === 0) return 'There is no project to put a key in yet.';
  if (selected && !selected.canCreateKey) {
    if (selected.keysUsed < (selected.keyLimit ?? Number.POSITIVE_INFINITY) && selected.createKeyRefusal) {
      return selected.createKeyRefusal;
    }
    return `Project ${selected.name} has used all its keys (${selected.keysUsage}) on the ${PLAN_LABELS[selected.plan]} plan. Revoke a key you no longer need, or ask an admin to raise the limit.`;
  }
  if (!selected && projects.every((project) => !project.canCreateKey)) {
    const reasons = new Set(projects.map((project) => project.createKeyRefusal));
    const [only] = reasons;
    if (reasons.size === 1 && only && !only.includes('has used all its keys')) return only;
    return 'No project can take another key of yours now. Revoke a key you no longer need, or ask an admin to raise the limit.';
  }
  return undefined;
}

function KeyQuota({ project }: { project: Project }) {
  const share = project.keyLimit ? Math.min(100, (project.keysUsed / project.keyLimit) * 100) : 0;
  return (
    <Stack gap={4} miw={170}>
      <Text size="sm" fw={500} data-testid="keys-usage">
        {project.keysUsage}
      </Text>
      {project.keyLimit !== null && (
        <Progress
          value={share}
          size="sm"
          color={share >= 100 ? 'red' : share >= 80 ? 'orange' : 'indigo'}
          aria-label={`${project.name}: ${project.keysUsage}`}
        />
      )}
      <Text size="xs" c="dimmed">
        {project.name} · {PLAN_LABELS[project.plan]} plan
      </Text>
    </Stack>
  );
}

export function KeysPage() {
  const search = route.useSearch();
  const navigate = useNavigate();
  const can = usePermissions();
  const apiKeys = useApiKeys();
  const projects = useProjects();
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<'all' | KeyStatus>('all');
  const [sort, setSort] = useState<Sort<KeyColumn>>({ by: 'created', descending: true });
  const [creating, { open: openCreate, close: closeCreate }] = useDisclosure(false);
  const [dialog, setDialog] = useState<KeyDialog | undefined>();

  const projectList = projects.data ?? [];
  const selected =
    projectList.find((project) => project.id === search.project) ??
    (projectList.length === 1 ? projectList[0] : undefined);
  const blocked = projects.isPending ? 'Loading projects…' : createBlocked(projectList, selected, can.writeKeys);
  const defaultProject = (selected?.canCreateKey ? selected : projectList.find((project) => project.canCreateKey))?.id;

  const visible = useMemo(() => {
    const words = query.trim().toLowerCase();
    const list = (apiKeys.data ?? []).filter(
      (key) =>
        (status === 'all' || key.status === status) &&
        (!selected || key.projectId === selected.id) &&
        (!words || `${key.name} ${key.preview} ${key.project}`.toLowerCase().includes(words)),
    );
    return sortKeys(list, sort);
  }, [apiKeys.data, query, status, sort, selected]);

  const createButton = (
    <Tooltip label={blocked} disabled={!blocked} multiline w={300}>
      <span>
        <Button leftSection={<IconPlus size={16} />} onClick={openCreate} disabled={Boolean(blocked)}>
          Create API key
        </Button>
      </span>
    </Tooltip>
  );

  return (
    <>
      <PageHeader
        title="API keys"
        description={
          can.manage
            ? 'Every application, script and plugin talks to Tollgate with its own key. Limits and IAM rules apply per key.'
            : 'Your keys for the tools you use. Each key is shown once when it is created.'
        }
        actions={
          <Group gap="lg" align="center">
            {selected && <KeyQuota project={selected} />}
            {createButton}
          </Group>
        }
      />
      {blocked && can.writeKeys && !projects.isPending && (
        <Paper withBorder p="sm" mb="md" radius="md" bg="var(--mantine-color-orange-light)" role="status">
          <Text size="sm">{blocked}</Text>
        </Paper>
      )}
      <Group mb="md" gap="sm" wrap="wrap">
        <TextInput
          placeholder="Search by name, key or project"
          aria-label="Search keys"
          leftSection={<IconSearch size={16} />}
          value={query}
          onChange={(event) => setQuery(event.currentTarget.value)}
          w={{ base: '100%', sm: 320 }}
        />
        {projectList.length > 1 && (
          <Select
            aria-label="Project"
            placeholder="All projects"
            data={projectList.map((project) => ({ value: project.id, label: project.name }))}
            value={selected?.id ?? null}
            clearable
            onChange={(value) => navigate({ to: '/keys', search: value ? { project: value } : {}, replace: true })}
            w={{ base: '100%', sm: 220 }}
          />
        )}
        <SegmentedControl
          aria-label="Status"
          value={status}
          onChange={(value) => setStatus(value as typeof status)}
          data={[
            { value: 'all', label: 'All' },
            { value: 'active', label: 'Active' },
            { value: 'disabled', label: 'Disabled' },
            { value: 'revoked', label: 'Revoked' },
          ]}
        />
      </Group>
      {apiKeys.isPending ? (
        <Loading label="Loading keys…" />
      ) : apiKeys.error ? (
        <ErrorState error={apiKeys.error} onRetry={() => apiKeys.refetch()} />
      ) : (apiKeys.data ?? []).length === 0 ? (
        <EmptyState icon={<IconKey size={24} />} title="No API keys yet" action={blocked ? undefined : createButton}>
          Create a key for each tool that calls a model — an IDE plugin, a script, a pipeline — so that its spend can be
          limited and its usage seen on its own.
        </EmptyState>
      ) : visible.length === 0 ? (
        <EmptyState icon={<IconSearch size={24} />} title="No keys match">
          Nothing matches these filters. Clear the search or choose another status.
        </EmptyState>
      ) : (
        <Paper withBorder radius="md">
          <KeyTable list={visible} sort={sort} onSort={setSort} onDialog={setDialog} />
        </Paper>
      )}
      {projects.data && (
        <CreateKeyModal
          opened={creating}
          onClose={closeCreate}
          projects={projectList}
          defaultProject={defaultProject}
          onCreated={(key: ApiKeyWithSecret) => {
            closeCreate();
            setDialog({ kind: 'reveal', key });
          }}
        />
      )}
      {dialog?.kind === 'limits' && <EditLimitsModal apiKey={dialog.key} onClose={() => setDialog(undefined)} />}
      {dialog?.kind === 'rules' && <EditRulesModal apiKey={dialog.key} onClose={() => setDialog(undefined)} />}
      <KeyRevealModal
        secret={dialog?.kind === 'reveal' ? dialog.key.key : undefined}
        name={dialog?.key.name ?? ''}
        rotated={dialog?.kind === 'reveal' && dialog.key.createdAt !== dialog.key.updatedAt}
        onClose={() => setDialog(undefined)}
      />
    </>
  );
}
