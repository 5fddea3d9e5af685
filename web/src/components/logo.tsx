import { Group, Text } from '@mantine/core';

export function Logo({ size = 28 }: { size?: number }) {
  return (
    <Group gap={8} wrap="nowrap">
      <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="var(--mantine-color-indigo-6)" />
        <path d="M8 11h16v3H8zM14 14h4v10h-4z" fill="#fff" />
      </svg>
      <Text fw={700} fz={size * 0.65} lh={1}>
        Tollgate
      </Text>
    </Group>
  );
}
