import {
  ActionIcon,
  Alert,
  Button,
  Group,
  Modal,
  NumberInput,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconFolders, IconPencil, IconPlus } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { errorMessage, patch, post } from '../api/client.ts';
import { keys, useProjects } from '../api/queries.ts';
import type { Project } from '../api/types.ts';
import { usePermissions } from '../auth/session.ts';
import { EmptyState } from '../components/empty-state.tsx';
import { ManagedBadge, ManagedWarning } from '../components/managed-badge.tsx';
import { notifySuccess } from '../components/notify.ts';
import { PageHeader } from '../components/page-header.tsx';
import { QueryState } from '../components/query-state.tsx';
import { formatDate, formatUsd } from '../lib/format.ts';
import { describeWindow } from '../lib/windows.ts';
import { SpendLimitFields } from './keys/policy-fields.tsx';
import {
  emptyLimits,
  type LimitsValues,
  limitsBody,
  type NumberValue,
  toNumber,
  validateLimits,
} from './keys/policy-form.ts';

const PLANS = [
  { value: 'free', label: 'Free' },
  { value: 'pro', label: 'Pro' },
  { value: 'enterprise', label: 'Enterprise' },
];

interface Values extends LimitsValues {
  name: string;
  plan: Project['plan'];
  keyLimit: NumberValue;
  keysPerUser: NumberValue;
}

function ProjectModal({ project, onClose }: { project?: Project; onClose: () => void }) {
  const queryClient = useQueryClient();
  const recurring = project?.spendLimit.recurring;
  const form = useForm<Values>({
    initialValues: {
      ...emptyLimits,
      name: project?.name ?? '',
      plan: project?.plan ?? 'free',
      keyLimit: project?.keyLimitOverride ?? '',
      keysPerUser: project?.keysPerUser ?? '',
      allTimeUsd: project?.spendLimit.allTimeUsd ?? '',
      recurringUsd: recurring?.usd ?? '',
      recurringCount: recurring?.count ?? 1,
      recurringUnit: recurring?.unit ?? 'month',
    },
    validate: {
      ...validateLimits,
      name: (value) => (value.trim() ? null : 'Give the project a name'),
    },
  });
  const save = useMutation({
    mutationFn: (values: Values) => {
      const body = {
        name: values.name.trim(),
        plan: values.plan,
        keyLimit: toNumber(values.keyLimit) ?? null,
        keysPerUser: toNumber(values.keysPerUser) ?? null,
        spendLimit: limitsBody(values).spendLimit,
      };
      return project ? patch<Project>(`/api/v1/projects/${project.id}`, body) : post<Project>('/api/v1/projects', body);
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.projects });
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys });
      notifySuccess(project ? `Project ${saved.name} saved` : `Project ${saved.name} created`);
      onClose();
    },
  });
  const count = { min: 0, allowDecimal: false, allowNegative: false };
  return (
    <Modal opened onClose={onClose} title={project ? `Edit ${project.name}` : 'Create project'} size="lg">
      <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
        <Stack gap="md">
          <ManagedWarning managedBy={project?.managedBy} kind="project" />
          <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
          <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm">
            <Select
              label="Plan"
              data={PLANS}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
              {...form.getInputProps('plan')}
            />
            <NumberInput
              label="Key limit"
              placeholder="Plan's default"
              {...count}
              {...form.getInputProps('keyLimit')}
            />
            <NumberInput
              label="Keys per user"
              placeholder="No limit"
              {...count}
              {...form.getInputProps('keysPerUser')}
            />
          </SimpleGrid>
          <SpendLimitFields form={form} />
          {save.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {project ? 'Save project' : 'Create project'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function ProjectsPage() {
  const can = usePermissions();
  const projects = useProjects();
  const [editing, setEditing] = useState<Project | 'new' | undefined>();
  const addButton = can.manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
      Create project
    </Button>
  );
  return (
    <>
      <PageHeader
        title="Projects"
        description="Projects group keys. Each has a plan that sets how many keys it may hold, and optional spend limits."
        actions={addButton}
      />
      <QueryState query={projects} loadingLabel="Loading projects…">
        {(list) =>
          list.length === 0 ? (
            <EmptyState icon={<IconFolders size={24} />} title="No projects" action={addButton}>
              Create a project to hold keys.
            </EmptyState>
          ) : (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={820}>
                <Table aria-label="Projects">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Plan</Table.Th>
                      <Table.Th>Keys</Table.Th>
                      <Table.Th>Spend</Table.Th>
                      <Table.Th>Limits</Table.Th>
                      <Table.Th>Created</Table.Th>
                      {can.manage && <Table.Th />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {list.map((project) => {
                      const share = project.keyLimit ? (project.keysUsed / project.keyLimit) * 100 : 0;
                      const { allTimeUsd, recurring } = project.spendLimit;
                      return (
                        <Table.Tr key={project.id}>
                          <Table.Td>
                            <Group gap={6} wrap="nowrap">
                              <Link
                                to="/keys"
                                search={{ project: project.id }}
                                style={{ fontWeight: 600, fontSize: 14 }}
                              >
                                {project.name}
                              </Link>
                              <ManagedBadge managedBy={project.managedBy} />
                            </Group>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm" tt="capitalize">
                              {project.plan}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <Stack gap={4} maw={200}>
                              <Text size="sm">{project.keysUsage}</Text>
                              {project.keyLimit !== null && (
                                <Progress
                                  value={Math.min(100, share)}
                                  size="xs"
                                  color={share >= 100 ? 'red' : 'indigo'}
                                  aria-hidden
                                />
                              )}
                              {project.keysPerUser !== null && (
                                <Text size="xs" c="dimmed">
                                  at most {project.keysPerUser} per user
                                </Text>
                              )}
                            </Stack>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatUsd(project.spend?.allTimeUsd ?? 0)}</Text>
                            {project.spend?.period && (
                              <Text size="xs" c="dimmed">
                                {formatUsd(project.spend.period.spentUsd)} this period
                              </Text>
                            )}
                          </Table.Td>
                          <Table.Td>
                            {allTimeUsd == null && !recurring ? (
                              <Text size="sm" c="dimmed">
                                No limits
                              </Text>
                            ) : (
                              <Stack gap={0}>
                                {allTimeUsd != null && <Text size="sm">{formatUsd(allTimeUsd)} all-time</Text>}
                                {recurring && (
                                  <Text size="sm">
                                    {formatUsd(recurring.usd)} per {describeWindow(recurring.count, recurring.unit)}
                                  </Text>
                                )}
                              </Stack>
                            )}
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDate(project.createdAt)}</Text>
                          </Table.Td>
                          {can.manage && (
                            <Table.Td>
                              <Tooltip label="Edit project">
                                <ActionIcon
                                  variant="subtle"
                                  color="gray"
                                  aria-label={`Edit ${project.name}`}
                                  onClick={() => setEditing(project)}
                                >
                                  <IconPencil size={18} />
                                </ActionIcon>
                              </Tooltip>
                            </Table.Td>
                          )}
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
          )
        }
      </QueryState>
      {editing && (
        <ProjectModal project={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />
      )}
    </>
  );
}
