import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Tooltip,
  UnstyledButton,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconChartBar,
  IconCpu,
  IconFolders,
  IconKey,
  IconLayoutDashboard,
  IconLock,
  IconLogout,
  IconMoon,
  IconSun,
  IconUsers,
} from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { post, setCsrfToken } from '../api/client.ts';
import { ROLE_LABELS, usePermissions, useSession } from '../auth/session.ts';
import { Logo } from './logo.tsx';

interface Item {
  to: string;
  label: string;
  icon: ReactNode;
  visible: boolean;
}

export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const me = useSession();
  const can = usePermissions();
  const path = useRouterState({ select: (state) => state.location.pathname });
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { colorScheme, toggleColorScheme } = useMantineColorScheme();

  const items: Item[] = [
    { to: '/', label: 'Overview', icon: <IconLayoutDashboard size={18} />, visible: true },
    { to: '/keys', label: 'API keys', icon: <IconKey size={18} />, visible: true },
    { to: '/usage', label: 'Usage', icon: <IconChartBar size={18} />, visible: true },
    { to: '/models', label: 'Models', icon: <IconCpu size={18} />, visible: true },
    { to: '/credentials', label: 'Provider credentials', icon: <IconLock size={18} />, visible: can.seeAdminPages },
    { to: '/projects', label: 'Projects', icon: <IconFolders size={18} />, visible: can.seeAdminPages },
    { to: '/members', label: 'Members', icon: <IconUsers size={18} />, visible: can.seeAdminPages },
  ];

  async function signOut() {
    try {
      await post('/api/auth/logout');
    } finally {
      setCsrfToken(undefined);
      queryClient.clear();
      await navigate({ to: '/sign-in' });
    }
  }

  const initials = (me.user.name || me.user.email).slice(0, 2).toUpperCase();

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding={{ base: 'md', sm: 'lg' }}
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Logo />
            <Text c="dimmed" size="sm" visibleFrom="xs" truncate>
              {me.organization.name}
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Tooltip label={colorScheme === 'dark' ? 'Light theme' : 'Dark theme'}>
              <ActionIcon
                variant="subtle"
                color="gray"
                size="lg"
                onClick={toggleColorScheme}
                aria-label="Switch colour theme"
              >
                {colorScheme === 'dark' ? <IconSun size={18} /> : <IconMoon size={18} />}
              </ActionIcon>
            </Tooltip>
            <Menu position="bottom-end" width={240}>
              <Menu.Target>
                <UnstyledButton aria-label="Account menu" style={{ borderRadius: 999 }}>
                  <Group gap={8} wrap="nowrap">
                    <Avatar color="indigo" radius="xl" size={34}>
                      {initials}
                    </Avatar>
                    <Text size="sm" fw={500} visibleFrom="sm" data-testid="signed-in-user">
                      {me.user.name || me.user.email}
                    </Text>
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  <Text size="sm" fw={600} c="var(--mantine-color-text)" truncate>
                    {me.user.email}
                  </Text>
                  <Badge mt={4} variant="light" size="sm">
                    {ROLE_LABELS[me.user.role]}
                  </Badge>
                </Menu.Label>
                <Menu.Divider />
                <Menu.Item leftSection={<IconLogout size={16} />} onClick={signOut}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Main navigation">
        <ScrollArea>
          {items
            .filter((item) => item.visible)
            .map((item) => (
              <NavLink
                key={item.to}
                component={Link}
                to={item.to}
                label={item.label}
                leftSection={item.icon}
                active={item.to === '/' ? path === '/' : path.startsWith(item.to)}
                onClick={close}
                className="tg-nav-link"
                style={{ borderRadius: 'var(--mantine-radius-md)' }}
                mb={2}
              />
            ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <div style={{ maxWidth: 'var(--tg-page-max)', margin: '0 auto' }}>
          <Outlet />
        </div>
      </AppShell.Main>
    </AppShell>
  );
}
