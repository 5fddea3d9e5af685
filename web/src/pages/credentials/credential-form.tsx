import { Alert, Button, Group, Modal, PasswordInput, Select, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, useEffect } from 'react';
import { errorMessage, patch, post } from '../../api/client.ts';
import { keys, useProviders } from '../../api/queries.ts';
import type { AuthMethod, Credential, Provider } from '../../api/types.ts';
import { ManagedWarning } from '../../components/managed-badge.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { Loading } from '../../components/query-state.tsx';

interface Values {
  name: string;
  provider: string;
  authMethod: string;
  fields: Record<string, string>;
}

function methodOf(providers: Provider[], provider: string, method: string): AuthMethod | undefined {
  const spec = providers.find((candidate) => candidate.id === provider);
  return spec?.authMethods.find((candidate) => candidate.id === method) ?? spec?.authMethods[0];
}

/**
 * Creates or edits a credential. The fields come from the provider's declaration
 * (GET /api/v1/providers): secret ones are masked and, when editing, left empty to keep them.
 */
export function CredentialFormModal({ credential, onClose }: { credential?: Credential; onClose: () => void }) {
  const providers = useProviders();
  const queryClient = useQueryClient();
  const editing = credential !== undefined;
  const form = useForm<Values>({
    initialValues: {
      name: credential?.name ?? '',
      provider: credential?.provider ?? 'openai',
      authMethod: credential?.authMethod ?? '',
      fields: { ...(credential?.settings ?? {}) },
    },
    validate: {
      name: (value) =>
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)
          ? null
          : 'Use letters, digits, dots, dashes and underscores, e.g. openai-production',
      fields: (fields, values) => {
        const method = methodOf(providers.data ?? [], values.provider, values.authMethod);
        for (const field of method?.fields ?? []) {
          const missing = field.required && !fields[field.name]?.trim();
          // An edit may leave a secret empty to keep it.
          if (missing && !(editing && field.secret)) return `${field.label} is required`;
        }
        return null;
      },
    },
  });
  const method = methodOf(providers.data ?? [], form.values.provider, form.values.authMethod);

  // A new provider or method brings its own fields.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when the choice changes
  useEffect(() => {
    if (!editing) form.setFieldValue('fields', {});
  }, [form.values.provider, form.values.authMethod]);

  const save = useMutation({
    mutationFn: (values: Values) => {
      const fields: Record<string, string> = {};
      for (const field of method?.fields ?? []) {
        const value = values.fields[field.name]?.trim() ?? '';
        if (editing) {
          // Unchanged secrets stay as they are; a setting emptied is removed.
          if (field.secret ? value !== '' : value !== (credential.settings[field.name] ?? ''))
            fields[field.name] = value;
        } else if (value !== '') {
          fields[field.name] = value;
        }
      }
      return editing
        ? patch<Credential>(`/api/v1/credentials/${credential.id}`, {
            ...(values.name !== credential.name && { name: values.name }),
            fields,
          })
        : post<Credential>('/api/v1/credentials', {
            name: values.name,
            provider: values.provider,
            ...(method && { authMethod: method.id }),
            fields,
          });
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.credentials });
      void queryClient.invalidateQueries({ queryKey: keys.models });
      notifySuccess(editing ? `Credential ${saved.name} saved` : `Credential ${saved.name} created`);
      onClose();
    },
  });

  const provider = providers.data?.find((candidate) => candidate.id === form.values.provider);
  return (
    <Modal opened onClose={onClose} title={editing ? `Edit ${credential.name}` : 'Add provider credential'} size="lg">
      {providers.isPending ? (
        <Loading />
      ) : (
        <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
          <Stack gap="md">
            <ManagedWarning managedBy={credential?.managedBy} kind="credential" />
            <TextInput
              label="Name"
              description="How models refer to it, e.g. openai-production"
              required
              data-autofocus
              {...form.getInputProps('name')}
            />
            <Group grow align="flex-start">
              <Select
                label="Provider"
                required
                searchable
                disabled={editing}
                data={(providers.data ?? []).map((candidate) => ({ value: candidate.id, label: candidate.label }))}
                allowDeselect={false}
                comboboxProps={{ withinPortal: true }}
                {...form.getInputProps('provider')}
              />
              {(provider?.authMethods.length ?? 0) > 1 && (
                <Select
                  label="Authentication"
                  disabled={editing}
                  data={(provider?.authMethods ?? []).map((candidate) => ({
                    value: candidate.id,
                    label: candidate.label,
                  }))}
                  value={method?.id ?? null}
                  onChange={(value) => form.setFieldValue('authMethod', value ?? '')}
                  allowDeselect={false}
                  comboboxProps={{ withinPortal: true }}
                />
              )}
            </Group>
            {method?.fields.map((field) => {
              const common = {
                label: field.label,
                required: field.required && !(editing && field.secret),
                value: form.values.fields[field.name] ?? '',
                onChange: (event: ChangeEvent<HTMLInputElement>) => {
                  const value = event.currentTarget.value;
                  form.setValues((previous) => ({ fields: { ...previous.fields, [field.name]: value } }));
                },
                autoComplete: 'off',
              };
              return field.secret ? (
                <PasswordInput
                  key={field.name}
                  {...common}
                  placeholder={editing ? (credential.secrets[field.name] ?? 'not set') : undefined}
                  description={
                    editing
                      ? 'Shown masked. Leave empty to keep the current value.'
                      : 'Stored encrypted; never shown again.'
                  }
                />
              ) : (
                <TextInput
                  key={field.name}
                  {...common}
                  placeholder={field.default}
                  description={field.default ? `Default: ${field.default}` : undefined}
                />
              );
            })}
            {form.errors.fields && (
              <Alert color="red" variant="light" role="alert">
                {form.errors.fields}
              </Alert>
            )}
            {save.error && (
              <Alert color="red" variant="light" role="alert">
                {errorMessage(save.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={save.isPending}>
                {editing ? 'Save changes' : 'Add credential'}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
