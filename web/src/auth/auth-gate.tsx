import { Center, Loader } from '@mantine/core';
import { useNavigate, useRouterState } from '@tanstack/react-router';
import { useEffect } from 'react';
import { ApiError, setCsrfToken } from '../api/client.ts';
import { useMe } from '../api/queries.ts';
import { AppLayout } from '../components/app-layout.tsx';
import { ErrorState } from '../components/query-state.tsx';

/** Shows the signed-in pages, or sends the visitor to sign in and back again. */
export function AuthGate() {
  const me = useMe();
  const navigate = useNavigate();
  const href = useRouterState({ select: (state) => state.location.href });
  const signedOut = me.error instanceof ApiError && me.error.status === 401;

  // biome-ignore lint/correctness/useExhaustiveDependencies: once per sign-out, from where the visitor was
  useEffect(() => {
    if (!signedOut) return;
    setCsrfToken(undefined);
    void navigate({ to: '/sign-in', search: href === '/' ? {} : { redirect: href }, replace: true });
  }, [signedOut]);

  if (me.isPending || signedOut) {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (me.error || !me.data) {
    return (
      <Center h="100vh" p="md">
        <ErrorState error={me.error} onRetry={() => me.refetch()} />
      </Center>
    );
  }
  setCsrfToken(me.data.csrfToken);
  return <AppLayout />;
}
