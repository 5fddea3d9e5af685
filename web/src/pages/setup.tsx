import { Alert, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { errorMessage, post, setCsrfToken } from '../api/client.ts';
import { keys } from '../api/queries.ts';
import type { Me } from '../api/types.ts';
import { AuthCard } from '../components/auth-card.tsx';

const route = getRouteApi('/setup');

/** The first owner's page, reached by the one-time link Tollgate prints on its first start. */
export function SetupPage() {
  const { token } = route.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { name: '', email: '', password: '', confirm: '' },
    validate: {
      email: (value) => (/^\S+@\S+\.\S+$/.test(value.trim()) ? null : 'Enter a valid email address'),
      password: (value) => (value.length >= 10 ? null : 'Use at least 10 characters'),
      confirm: (value, values) => (value === values.password ? null : 'The passwords do not match'),
    },
  });
  const setup = useMutation({
    mutationFn: (values: typeof form.values) =>
      post<Me>('/api/auth/setup', {
        token,
        email: values.email.trim(),
        password: values.password,
        ...(values.name.trim() && { name: values.name.trim() }),
      }),
    onSuccess: async (me) => {
      setCsrfToken(me.csrfToken);
      queryClient.setQueryData(keys.me, me);
      await navigate({ to: '/' });
    },
  });

  if (!token) {
    return (
      <AuthCard title="Set-up link needed" subtitle="This page creates the first owner of a new Tollgate.">
        <Alert color="yellow" mb="md">
          Open the full link that Tollgate printed on its first start; it ends with ?token=….
        </Alert>
        <Button component={Link} to="/sign-in" variant="light" fullWidth>
          Go to sign-in
        </Button>
      </AuthCard>
    );
  }

  return (
    <AuthCard title="Create the owner account" subtitle="You will manage this Tollgate: keys, providers, members.">
      <form onSubmit={form.onSubmit((values) => setup.mutate(values))} noValidate>
        <Stack>
          <TextInput label="Your name" autoComplete="name" autoFocus {...form.getInputProps('name')} />
          <TextInput label="Email" type="email" autoComplete="username" required {...form.getInputProps('email')} />
          <PasswordInput
            label="Password"
            description="At least 10 characters"
            autoComplete="new-password"
            required
            {...form.getInputProps('password')}
          />
          <PasswordInput
            label="Repeat the password"
            autoComplete="new-password"
            required
            {...form.getInputProps('confirm')}
          />
          {setup.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(setup.error)}
            </Alert>
          )}
          <Button type="submit" loading={setup.isPending} fullWidth mt="xs">
            Create account and sign in
          </Button>
        </Stack>
      </form>
    </AuthCard>
  );
}
