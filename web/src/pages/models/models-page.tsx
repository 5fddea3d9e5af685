import { ActionIcon, Badge, Button, Code, Group, Menu, Paper, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconCpu, IconDots, IconPencil, IconPlus, IconTrash } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { del } from '../../api/client.ts';
import { keys, useModels } from '../../api/queries.ts';
import type { Model, PriceField } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.ts';
import { confirmAction } from '../../components/confirm.tsx';
import { EmptyState } from '../../components/empty-state.tsx';
import { ManagedBadge, managedDeletionNote } from '../../components/managed-badge.tsx';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { QueryState } from '../../components/query-state.tsx';
import { formatPrice, formatRelative } from '../../lib/format.ts';
import { ModelFormModal } from './model-form.tsx';

/** A cache price, with where it came from when an admin did not set it. */
function CachePrice({ model, field, label }: { model: Model; field: PriceField; label: string }) {
  const value = model[field] as number | null;
  if (value === null) return null;
  const source = model.priceSources?.[field];
  return (
    <Text component="div" size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }} data-testid={`price-${field}`}>
      {label} {formatPrice(value)}
      {source === 'derived' && (
        <Badge
          ml={4}
          size="xs"
          variant="light"
          color="gray"
          title="Derived from the input price by the provider's ratio"
        >
          derived
        </Badge>
      )}
    </Text>
  );
}

function Prices({ model }: { model: Model }) {
  if (model.inputPrice === 0 && model.outputPrice === 0) {
    return (
      <Badge color="teal" variant="light">
        Free
      </Badge>
    );
  }
  const notes = model.priceNotes ?? [];
  return (
    <Stack gap={0}>
      <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
        In {formatPrice(model.inputPrice)}
      </Text>
      <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
        Out {formatPrice(model.outputPrice)}
      </Text>
      <CachePrice model={model} field="cachedInputPrice" label="Cache read" />
      <CachePrice model={model} field="cacheWriteInputPrice" label="Cache write" />
      <CachePrice model={model} field="cacheWrite1hInputPrice" label="Cache write 1 h" />
      {model.cachedInputPrice === null && (
        <Text size="xs" c="orange" style={{ whiteSpace: 'nowrap' }}>
          Cached tokens at the input price
        </Text>
      )}
      {notes.length > 0 && (
        <Tooltip
          multiline
          w={360}
          withinPortal
          label={
            <Stack gap={4}>
              {notes.map((note) => (
                <Text size="xs" key={note}>
                  {note}
                </Text>
              ))}
            </Stack>
          }
        >
          <Text size="xs" c="dimmed" td="underline" style={{ cursor: 'help', width: 'fit-content' }} tabIndex={0}>
            About these prices
          </Text>
        </Tooltip>
      )}
    </Stack>
  );
}

export function ModelsPage() {
  const can = usePermissions();
  const models = useModels();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Model | 'new' | undefined>();

  async function remove(model: Model) {
    const confirmed = await confirmAction({
      title: `Unpublish ${model.name}?`,
      message: `Requests for ${model.name} will fail with 404 from now on. Its usage records are kept.${managedDeletionNote(model.managedBy)}`,
      confirmLabel: 'Unpublish model',
    });
    if (!confirmed) return;
    try {
      await del(`/api/v1/models/${model.id}`);
      notifySuccess(`Model ${model.name} unpublished`);
    } catch (error) {
      notifyError(error);
    } finally {
      void queryClient.invalidateQueries({ queryKey: keys.models });
      void queryClient.invalidateQueries({ queryKey: keys.credentials });
    }
  }

  const addButton = can.manage && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
      Publish model
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Models"
        description="The names callers use, each served by one or more targets: a credential and the provider's model id, with fallbacks and load sharing."
        actions={addButton}
      />
      <QueryState query={models} loadingLabel="Loading models…">
        {(list) =>
          list.length === 0 ? (
            <EmptyState icon={<IconCpu size={24} />} title="No models published yet" action={addButton}>
              {can.manage
                ? 'Publish a model to let keys call it: give it a public name such as gpt-4o and point it at a provider credential.'
                : 'An admin has not published any model yet.'}
            </EmptyState>
          ) : (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={860}>
                <Table aria-label="Models">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Name</Table.Th>
                      <Table.Th>Targets</Table.Th>
                      <Table.Th>Prices</Table.Th>
                      <Table.Th>Updated</Table.Th>
                      {can.manage && <Table.Th />}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {list.map((model) => (
                      <Table.Tr key={model.id} data-testid={`model-row-${model.name}`}>
                        <Table.Td>
                          <Stack gap={4} align="flex-start">
                            <Code fw={600}>{model.name}</Code>
                            <ManagedBadge managedBy={model.managedBy} />
                          </Stack>
                        </Table.Td>
                        <Table.Td>
                          <Stack gap={4}>
                            {model.targets.map((target) => (
                              <Text size="sm" key={`${target.credentialId}:${target.upstreamModel}:${target.priority}`}>
                                <Text span c="dimmed" size="xs">
                                  #{target.priority}
                                </Text>{' '}
                                {target.credential} → <span className="tg-mono">{target.upstreamModel}</span>
                                <Text span c="dimmed" size="xs">
                                  {' '}
                                  · weight {target.weight}
                                  {target.timeoutMs ? ` · ${target.timeoutMs} ms` : ''}
                                </Text>
                              </Text>
                            ))}
                            {model.targets.length === 0 && (
                              <Text size="sm" c="red">
                                No target: requests fail
                              </Text>
                            )}
                          </Stack>
                        </Table.Td>
                        <Table.Td>
                          <Prices model={model} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatRelative(model.updatedAt)}</Text>
                        </Table.Td>
                        {can.manage && (
                          <Table.Td>
                            <Group justify="flex-end">
                              <Menu position="bottom-end" withinPortal>
                                <Menu.Target>
                                  <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${model.name}`}>
                                    <IconDots size={18} />
                                  </ActionIcon>
                                </Menu.Target>
                                <Menu.Dropdown>
                                  <Menu.Item leftSection={<IconPencil size={16} />} onClick={() => setEditing(model)}>
                                    Edit
                                  </Menu.Item>
                                  <Menu.Item
                                    color="red"
                                    leftSection={<IconTrash size={16} />}
                                    onClick={() => remove(model)}
                                  >
                                    Unpublish
                                  </Menu.Item>
                                </Menu.Dropdown>
                              </Menu>
                            </Group>
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
        <ModelFormModal model={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />
      )}
    </>
  );
}
