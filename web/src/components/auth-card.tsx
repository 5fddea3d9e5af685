import { Center, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Logo } from './logo.tsx';

/** The frame of the sign-in and set-up pages. */
export function AuthCard({ title, subtitle, children }: { title: string; subtitle: ReactNode; children: ReactNode }) {
  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-default-hover)">
      <Stack w="100%" maw={420} gap="lg">
        <Center>
          <Logo size={36} />
        </Center>
        <Paper withBorder shadow="sm" radius="lg" p="xl">
          <Stack gap={4} mb="lg">
            <Title order={1} fz={22}>
              {title}
            </Title>
            <Text size="sm" c="dimmed">
              {subtitle}
            </Text>
          </Stack>
          {children}
        </Paper>
      </Stack>
    </Center>
  );
}
