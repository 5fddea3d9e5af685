import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus, IconTrash, IconUsers } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del, errorMessage, patch, post } from '../api/client.ts';
import { keys, useUsers } from '../api/queries.ts';
import type { Member, Role } from '../api/types.ts';
import { ROLE_DESCRIPTIONS, ROLE_LABELS, usePermissions, useSession } from '../auth/session.ts';
import { confirmAction } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty-state.tsx';
import { notifyError, notifySuccess } from '../components/notify.ts';
import { PageHeader } from '../components/page-header.tsx';
import { QueryState } from '../components/query-state.tsx';
import { formatDate, formatUsd } from '../lib/format.ts';

const ROLES = (Object.keys(ROLE_LABELS) as Role[]).map((role) => ({ value: role, label: ROLE_LABELS[role] }));

function AddMemberModal({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { email: '', name: '', role: 'member' as Role, password: '' },
    validate: {
      email: (value) => (/^\S+@\S+\.\S+$/.test(value.trim()) ? null : 'Enter a valid email address'),
      password: (value) => (value === '' || value.length >= 10 ? null : 'Use at least 10 characters'),
    },
  });
  const add = useMutation({
    mutationFn: (values: typeof form.values) =>
      post<Member>('/api/v1/users', {
        email: values.email.trim(),
        role: values.role,
        ...(values.name.trim() && { name: values.name.trim() }),
        ...(values.password && { password: values.password }),
      }),
    onSuccess: (member) => {
      void queryClient.invalidateQueries({ queryKey: keys.users });
      notifySuccess(`${member.email} added as ${ROLE_LABELS[member.role].toLowerCase()}`);
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title="Add member" size="md">
      <form onSubmit={form.onSubmit((values) => add.mutate(values))} noValidate>
        <Stack gap="md">
          <TextInput label="Email" type="email" required data-autofocus {...form.getInputProps('email')} />
          <TextInput label="Name" {...form.getInputProps('name')} />
          <Select
            label="Role"
            data={ROLES}
            allowDeselect={false}
            description={ROLE_DESCRIPTIONS[form.values.role]}
            comboboxProps={{ withinPortal: true }}
            {...form.getInputProps('role')}
          />
          <PasswordInput
            label="Password"
            description="At least 10 characters; share it with them safely. Leave empty for SSO-only accounts."
            autoComplete="new-password"
            {...form.getInputProps('password')}
          />
          {add.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(add.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={add.isPending}>
              Add member
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function MembersPage() {
  const me = useSession();
  const can = usePermissions();
  const users = useUsers();
  const queryClient = useQueryClient();
  const [adding, setAdding] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: keys.users });

  async function changeRole(member: Member, role: Role) {
    try {
      await patch(`/api/v1/users/${member.id}`, { role });
      notifySuccess(`${member.email} is now ${ROLE_LABELS[role].toLowerCase()}`);
    } catch (error) {
      notifyError(error);
    } finally {
      refresh();
    }
  }

  async function remove(member: Member) {
    const confirmed = await confirmAction({
      title: `Remove ${member.email}?`,
      message: 'They lose access to this organisation at once. Their keys and usage records stay.',
      confirmLabel: 'Remove member',
    });
    if (!confirmed) return;
    try {
      await del(`/api/v1/users/${member.id}`);
      notifySuccess(`${member.email} removed`);
    } catch (error) {
      notifyError(error);
    } finally {
      refresh();
    }
  }

  const addButton = can.manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
      Add member
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Members"
        description="Who can sign in to this organisation, and what their role lets them do."
        actions={addButton}
      />
      <QueryState query={users} loadingLabel="Loading members…">
        {(list) =>
          list.length === 0 ? (
            <EmptyState icon={<IconUsers size={24} />} title="No members" action={addButton}>
              Add the people who create keys or read usage.
            </EmptyState>
          ) : (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={760}>
                <Table aria-label="Members">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Member</Table.Th>
                      <Table.Th>Role</Table.Th>
                      <Table.Th>Spend</Table.Th>
                      <Table.Th>Added</Table.Th>
                      {can.manage && <Table.Th />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {list.map((member) => {
                      const self = member.id === me.user.id;
                      return (
                        <Table.Tr key={member.id} data-testid={`member-row-${member.email}`}>
                          <Table.Td>
                            <Group gap="xs">
                              <Text size="sm" fw={600}>
                                {member.name || member.email}
                              </Text>
                              {self && (
                                <Badge size="xs" variant="light">
                                  You
                                </Badge>
                              )}
                            </Group>
                            {member.name && (
                              <Text size="xs" c="dimmed">
                                {member.email}
                              </Text>
                            )}
                          </Table.Td>
                          <Table.Td>
                            {can.manage && !self ? (
                              <Select
                                aria-label={`Role of ${member.email}`}
                                data={ROLES}
                                value={member.role}
                                allowDeselect={false}
                                onChange={(value) =>
                                  value && value !== member.role && changeRole(member, value as Role)
                                }
                                w={140}
                                size="xs"
                                comboboxProps={{ withinPortal: true }}
                              />
                            ) : (
                              <Tooltip label={ROLE_DESCRIPTIONS[member.role]}>
                                <Badge variant="light" tabIndex={0}>
                                  {ROLE_LABELS[member.role]}
                                </Badge>
                              </Tooltip>
                            )}
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatUsd(member.spend?.allTimeUsd ?? 0)}</Text>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm">{formatDate(member.createdAt)}</Text>
                          </Table.Td>
                          {can.manage && (
                            <Table.Td>
                              {!self && (
                                <Tooltip label="Remove member">
                                  <ActionIcon
                                    variant="subtle"
                                    color="red"
                                    aria-label={`Remove ${member.email}`}
                                    onClick={() => remove(member)}
                                  >
                                    <IconTrash size={18} />
                                  </ActionIcon>
                                </Tooltip>
                              )}
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
      {adding && <AddMemberModal onClose={() => setAdding(false)} />}
    </>
  );
}
