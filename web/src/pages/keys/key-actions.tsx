import { ActionIcon, Menu, Select, Stack, Text } from '@mantine/core';
import {
  IconChartBar,
  IconDots,
  IconPlayerPause,
  IconPlayerPlay,
  IconRefresh,
  IconShieldLock,
  IconTrash,
  IconWallet,
  IconX,
} from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { del, post } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import type { ApiKey, ApiKeyWithSecret } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.ts';
import { confirmAction } from '../../components/confirm.tsx';
import { notifyError, notifySuccess } from '../../components/notify.ts';

export type KeyDialog = { kind: 'limits' | 'rules'; key: ApiKey } | { kind: 'reveal'; key: ApiKeyWithSecret };

const GRACE = [
  { value: '0', label: 'Stop the old secret now' },
  { value: '3600', label: 'Keep the old secret for 1 hour' },
  { value: '86400', label: 'Keep the old secret for 24 hours' },
  { value: '604800', label: 'Keep the old secret for 7 days' },
];

function RotateMessage({ onGrace }: { onGrace: (seconds: number) => void }) {
  const [grace, setGrace] = useState('0');
  return (
    <Stack gap="sm">
      <Text size="sm">
        The key gets a new secret and keeps its name, limits and rules. Programs using the old secret must be updated.
      </Text>
      <Select
        label="Grace period"
        data={GRACE}
        value={grace}
        allowDeselect={false}
        onChange={(value) => {
          setGrace(value ?? '0');
          onGrace(Number(value ?? 0));
        }}
        comboboxProps={{ withinPortal: true }}
      />
    </Stack>
  );
}

/** The per-key menu: limits, rules, disable/enable, usage, rotate, revoke, delete. */
export function KeyActions({ apiKey, onDialog }: { apiKey: ApiKey; onDialog: (dialog: KeyDialog) => void }) {
  const can = usePermissions();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const revoked = apiKey.status === 'revoked';

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.apiKeys });
    void queryClient.invalidateQueries({ queryKey: keys.projects });
  };

  async function run(action: () => Promise<unknown>, done: string) {
    try {
      await action();
      notifySuccess(done);
    } catch (error) {
      notifyError(error);
    } finally {
      refresh();
    }
  }

  const setStatus = (action: 'disable' | 'enable') =>
    run(
      () => post(`/api/v1/keys/${apiKey.id}/${action}`),
      action === 'disable' ? `${apiKey.name} is disabled` : `${apiKey.name} is enabled`,
    );

  async function rotate() {
    let grace = 0;
    const confirmed = await confirmAction({
      title: `Rotate ${apiKey.name}?`,
      message: <RotateMessage onGrace={(seconds) => (grace = seconds)} />,
      confirmLabel: 'Rotate key',
      danger: false,
    });
    if (!confirmed) return;
    try {
      const rotated = await post<ApiKeyWithSecret>(`/api/v1/keys/${apiKey.id}/rotate`, { graceSeconds: grace });
      onDialog({ kind: 'reveal', key: rotated });
    } catch (error) {
      notifyError(error);
    } finally {
      refresh();
    }
  }

  async function revoke() {
    const confirmed = await confirmAction({
      title: `Revoke ${apiKey.name}?`,
      message:
        'Every request made with this key will be refused from now on. Revocation is permanent; the key stays listed for its history.',
      confirmLabel: 'Revoke key',
    });
    if (confirmed) await run(() => post(`/api/v1/keys/${apiKey.id}/revoke`), `${apiKey.name} is revoked`);
  }

  async function remove() {
    const confirmed = await confirmAction({
      title: `Delete ${apiKey.name}?`,
      message:
        'The key stops working and disappears from this list. Its usage records are kept. This cannot be undone.',
      confirmLabel: 'Delete key',
    });
    if (confirmed) await run(() => del(`/api/v1/keys/${apiKey.id}`), `${apiKey.name} is deleted`);
  }

  return (
    <Menu position="bottom-end" withinPortal width={220}>
      <Menu.Target>
        <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${apiKey.name}`}>
          <IconDots size={18} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        {can.setPolicy && !revoked && (
          <>
            <Menu.Item leftSection={<IconWallet size={16} />} onClick={() => onDialog({ kind: 'limits', key: apiKey })}>
              Edit limits
            </Menu.Item>
            <Menu.Item
              leftSection={<IconShieldLock size={16} />}
              onClick={() => onDialog({ kind: 'rules', key: apiKey })}
            >
              IAM rules
            </Menu.Item>
          </>
        )}
        <Menu.Item
          leftSection={<IconChartBar size={16} />}
          onClick={() => navigate({ to: '/usage', search: { key: apiKey.id } })}
        >
          View usage
        </Menu.Item>
        {can.writeKeys && !revoked && (
          <>
            {apiKey.status === 'active' ? (
              <Menu.Item leftSection={<IconPlayerPause size={16} />} onClick={() => setStatus('disable')}>
                Disable
              </Menu.Item>
            ) : (
              <Menu.Item leftSection={<IconPlayerPlay size={16} />} onClick={() => setStatus('enable')}>
                Enable
              </Menu.Item>
            )}
            <Menu.Item leftSection={<IconRefresh size={16} />} onClick={rotate}>
              Rotate secret
            </Menu.Item>
            <Menu.Divider />
            <Menu.Item color="red" leftSection={<IconX size={16} />} onClick={revoke}>
              Revoke
            </Menu.Item>
          </>
        )}
        {can.writeKeys && (
          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={remove}>
            Delete
          </Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}
