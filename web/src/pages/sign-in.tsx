import { Alert, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconInfoCircle } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, useNavigate } from '@tanstack/react-router';
import { errorMessage, get, post, setCsrfToken } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { Me } from '../api/types.ts';
import { AuthCard } from '../components/auth-card.tsx';

const route = getRouteApi('/sign-in');

export function SignInPage() {
  const { redirect } = route.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: ['auth-status'],
    queryFn: () => get<{ setupRequired: boolean }>('/api/auth/status'),
  });
  const form = useForm({
    initialValues: { email: '', password: '' },
    validate: {
      email: (value) => (/^\S+@\S+$/.test(value.trim()) ? null : 'Enter your email address'),
      password: (value) => (value ? null : 'Enter your password'),
    },
  });
  const signIn = useMutation({
    mutationFn: (values: typeof form.values) =>
      post<Me>('/api/auth/login', { email: values.email.trim(), password: values.password }),
    onSuccess: async (me) => {
      setCsrfToken(me.csrfToken);
      queryClient.setQueryData(keys.me, me);
      await navigate({ to: redirect ?? '/' });
    },
  });

  return (
    <AuthCard title="Sign in" subtitle="Manage API keys, providers, models and usage.">
      {status.data?.setupRequired && (
        <Alert icon={<IconInfoCircle size={18} />} mb="md" title="No owner yet">
          Open the one-time set-up link that Tollgate printed when it first started, or restart it with
          TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD set.
        </Alert>
      )}
      <form onSubmit={form.onSubmit((values) => signIn.mutate(values))} noValidate>
        <Stack>
          <TextInput
            label="Email"
            type="email"
            autoComplete="username"
            autoFocus
            required
            {...form.getInputProps('email')}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            {...form.getInputProps('password')}
          />
          {signIn.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(signIn.error)}
            </Alert>
          )}
          <Button type="submit" loading={signIn.isPending} fullWidth mt="xs">
            Sign in
          </Button>
        </Stack>
      </form>
    </AuthCard>
  );
}
