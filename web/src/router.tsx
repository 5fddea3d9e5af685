import type { QueryClient } from '@tanstack/react-query';
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  Outlet,
} from '@tanstack/react-router';
import { AuthGate } from './auth/auth-gate.tsx';
import { NotFound } from './components/not-found.tsx';
import { SetupPage } from './pages/setup.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { parseUsageSearch } from './pages/usage/search.ts';

const rootRoute = createRootRouteWithContext<{ queryClient: QueryClient }>()({
  component: Outlet,
  notFoundComponent: NotFound,
});

const signIn = createRoute({
  getParentRoute: () => rootRoute,
  path: '/sign-in',
  validateSearch: (search: Record<string, unknown>): { redirect?: string } =>
    typeof search.redirect === 'string' && search.redirect.startsWith('/') ? { redirect: search.redirect } : {},
  component: SignInPage,
});

const setup = createRoute({
  getParentRoute: () => rootRoute,
  path: '/setup',
  validateSearch: (search: Record<string, unknown>): { token?: string } =>
    typeof search.token === 'string' ? { token: search.token } : {},
  component: SetupPage,
});

/** Every page behind sign-in shares the navigation shell. */
const shell = createRoute({ getParentRoute: () => rootRoute, id: 'signed-in', component: AuthGate });

const page = <P extends string>(path: P, load: () => Promise<Record<string, unknown>>, name: string) =>
  createRoute({ getParentRoute: () => shell, path, component: lazyRouteComponent(load, name) });

const overview = page('/', () => import('./pages/overview.tsx'), 'OverviewPage');
const apiKeys = createRoute({
  getParentRoute: () => shell,
  path: '/keys',
  validateSearch: (search: Record<string, unknown>): { project?: string } =>
    typeof search.project === 'string' ? { project: search.project } : {},
  component: lazyRouteComponent(() => import('./pages/keys/keys-page.tsx'), 'KeysPage'),
});
const credentials = page('/credentials', () => import('./pages/credentials/credentials-page.tsx'), 'CredentialsPage');
const models = page('/models', () => import('./pages/models/models-page.tsx'), 'ModelsPage');
const usage = createRoute({
  getParentRoute: () => shell,
  path: '/usage',
  validateSearch: parseUsageSearch,
  component: lazyRouteComponent(() => import('./pages/usage/usage-page.tsx'), 'UsagePage'),
});
const projects = page('/projects', () => import('./pages/projects-page.tsx'), 'ProjectsPage');
const members = page('/members', () => import('./pages/members-page.tsx'), 'MembersPage');

const routeTree = rootRoute.addChildren([
  signIn,
  setup,
  shell.addChildren([overview, apiKeys, credentials, models, usage, projects, members]),
]);

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({ routeTree, context: { queryClient }, defaultPreload: 'intent', scrollRestoration: true });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
