import { ActionIcon, Badge, Button, Code, Group, List, Menu, Paper, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconDots, IconLock, IconPencil, IconPlus, IconTrash } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, del } from '../../api/client.ts';
import { keys, useCredentials, useProviders } from '../../api/queries.ts';
import type { Credential } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.ts';
import { confirmAction } from '../../components/confirm.tsx';
import { EmptyState } from '../../components/empty-state.tsx';
import { ManagedBadge, managedDeletionNote } from '../../components/managed-badge.tsx';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { QueryState } from '../../components/query-state.tsx';
import { formatDate, formatDateTime, formatRelative } from '../../lib/format.ts';
import { CredentialFormModal } from './credential-form.tsx';

function DependentsMessage({
  credential,
  models,
  refused,
}: {
  credential: Credential;
  models: string[];
  refused?: string;
}) {
  return (
    <Stack gap="sm">
      {refused && (
        <Text size="sm" c="red">
          {refused}
        </Text>
      )}
      <Text size="sm">
        {models.length === 1 ? 'One model uses' : `${models.length} models use`} {credential.name}. Deleting it removes
        those targets: a model left with no target stops answering.{managedDeletionNote(credential.managedBy)}
      </Text>
      <List size="sm" withPadding data-testid="dependent-models">
        {models.map((model) => (
          <List.Item key={model}>
            <Code>{model}</Code>
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}

export function CredentialsPage() {
  const can = usePermissions();
  const credentials = useCredentials();
  const providers = useProviders();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Credential | 'new' | undefined>();
  const label = (id: string) => providers.data?.find((provider) => provider.id === id)?.label ?? id;

  async function remove(credential: Credential) {
    const refresh = () => {
      void queryClient.invalidateQueries({ queryKey: keys.credentials });
      void queryClient.invalidateQueries({ queryKey: keys.models });
    };
    const force = credential.models.length > 0;
    const confirmed = await confirmAction({
      title: `Delete ${credential.name}?`,
      message: force ? (
        <DependentsMessage credential={credential} models={credential.models} />
      ) : (
        `No model uses this credential. Its secrets are deleted for good.${managedDeletionNote(credential.managedBy)}`
      ),
      confirmLabel: force ? 'Delete anyway' : 'Delete credential',
    });
    if (!confirmed) return;
    try {
      await del(`/api/v1/credentials/${credential.id}`, force ? { force: true } : {});
      notifySuccess(`Credential ${credential.name} deleted`);
    } catch (error) {
      // A model started using it meanwhile: the API refuses with the list of dependents.
      if (error instanceof ApiError && error.status === 409) {
        const again = await confirmAction({
          title: `${credential.name} is in use`,
          message: <Text size="sm">{error.message}</Text>,
          confirmLabel: 'Delete anyway',
        });
        if (again) {
          try {
            await del(`/api/v1/credentials/${credential.id}`, { force: true });
            notifySuccess(`Credential ${credential.name} deleted`);
          } catch (failure) {
            notifyError(failure);
          }
        }
      } else {
        notifyError(error);
      }
    } finally {
      refresh();
    }
  }

  const addButton = can.manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
      Add credential
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Provider credentials"
        description="Named, encrypted secrets for reaching providers. Editing one takes effect at once for every model using it."
        actions={addButton}
      />
      <QueryState query={credentials} loadingLabel="Loading credentials…">
        {(list) =>
          list.length === 0 ? (
            <EmptyState icon={<IconLock size={24} />} title="No provider credentials yet" action={addButton}>
              Add the API key of a provider — OpenAI, Mistral, Groq, a local vLLM or Ollama… — then publish models that
              use it. Callers never see these secrets.
            </EmptyState>
          ) : (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={900}>
                <Table aria-label="Provider credentials">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Provider</Table.Th>
                      <Table.Th>Secret</Table.Th>
                      <Table.Th>Models using it</Table.Th>
                      <Table.Th>Created</Table.Th>
                      <Table.Th>Last updated</Table.Th>
                      {can.manage && <Table.Th />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {list.map((credential) => (
                      <Table.Tr key={credential.id} data-testid={`credential-row-${credential.name}`}>
                        <Table.Td>
                          <Group gap={6} wrap="nowrap">
                            <Text size="sm" fw={600}>
                              {credential.name}
                            </Text>
                            <ManagedBadge managedBy={credential.managedBy} />
                          </Group>
                          {credential.settings.baseUrl && (
                            <Text size="xs" c="dimmed" className="tg-mono">
                              {credential.settings.baseUrl}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{label(credential.provider)}</Text>
                        </Table.Td>
                        <Table.Td>
                          {Object.keys(credential.secrets).length === 0 ? (
                            <Text size="sm" c="dimmed">
                              none
                            </Text>
                          ) : (
                            Object.entries(credential.secrets).map(([name, masked]) => (
                              <Code key={name} style={{ whiteSpace: 'nowrap' }}>
                                {masked}
                              </Code>
                            ))
                          )}
                        </Table.Td>
                        <Table.Td>
                          {credential.models.length === 0 ? (
                            <Text size="sm" c="dimmed">
                              none yet
                            </Text>
                          ) : (
                            <Group gap={4}>
                              {credential.models.map((model) => (
                                <Badge key={model} variant="light" color="gray" tt="none">
                                  {model}
                                </Badge>
                              ))}
                            </Group>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDate(credential.createdAt)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Tooltip label={formatDateTime(credential.updatedAt)}>
                            <Text size="sm">{formatRelative(credential.updatedAt)}</Text>
                          </Tooltip>
                        </Table.Td>
                        {can.manage && (
                          <Table.Td>
                            <Menu position="bottom-end" withinPortal>
                              <Menu.Target>
                                <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${credential.name}`}>
                                  <IconDots size={18} />
                                </ActionIcon>
                              </Menu.Target>
                              <Menu.Dropdown>
                                <Menu.Item
                                  leftSection={<IconPencil size={16} />}
                                  onClick={() => setEditing(credential)}
                                >
                                  Edit
                                </Menu.Item>
                                <Menu.Item
                                  color="red"
                                  leftSection={<IconTrash size={16} />}
                                  onClick={() => remove(credential)}
                                >
                                  Delete
                                </Menu.Item>
                              </Menu.Dropdown>
                            </Menu>
                          </Table.Td>
                        )}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
          )
        }
      </QueryState>
      {editing && (
        <CredentialFormModal
          credential={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
        />
      )}
    </>
  );
}
