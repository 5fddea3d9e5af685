import { Badge } from '@mantine/core';
import type { KeyStatus } from '../api/types.ts';

const COLORS: Record<KeyStatus, string> = { active: 'teal', disabled: 'yellow', revoked: 'red' };
const LABELS: Record<KeyStatus, string> = { active: 'Active', disabled: 'Disabled', revoked: 'Revoked' };

export function KeyStatusBadge({ status, expired }: { status: KeyStatus; expired?: boolean }) {
  if (expired && status === 'active') {
    return (
      <Badge color="gray" variant="light">
        Expired
      </Badge>
    );
  }
  return (
    <Badge color={COLORS[status]} variant="light">
      {LABELS[status]}
    </Badge>
  );
}

export function HttpStatusBadge({ status }: { status: number }) {
  const color = status < 300 ? 'teal' : status < 500 ? 'orange' : 'red';
  return (
    <Badge color={color} variant="light" radius="sm">
      {status}
    </Badge>
  );
}
