import { Accordion, Alert, Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { errorMessage, post } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import type { ApiKeyWithSecret, Project } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.ts';
import { RateLimitFields, RuleFields, SpendLimitFields } from './policy-fields.tsx';
import {
  emptyLimits,
  emptyRules,
  type LimitsValues,
  limitsBody,
  type RulesValues,
  rulesBody,
  validateLimits,
  validateRules,
} from './policy-form.ts';

interface Values extends LimitsValues, RulesValues {
  name: string;
  project: string | null;
  expires: string;
}

const today = () => new Date().toISOString().slice(0, 10);

const SECTIONS: Record<string, string[]> = {
  spend: ['allTimeUsd', 'recurringUsd', 'recurringCount', 'recurringUnit'],
  rules: ['allowModels', 'denyModels', 'allowProviders', 'denyProviders', 'pricing', 'maxInputPrice', 'maxOutputPrice'],
  rate: ['rpm', 'tpm', 'maxParallel'],
};

/** The folded sections holding fields with errors, so that every error can be seen. */
function sectionsWithErrors(errors: Record<string, unknown>): string[] {
  return Object.entries(SECTIONS)
    .filter(([, fields]) => fields.some((field) => errors[field]))
    .map(([section]) => section);
}

export function CreateKeyModal({
  opened,
  onClose,
  projects,
  defaultProject,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  projects: Project[];
  defaultProject: string | undefined;
  onCreated: (key: ApiKeyWithSecret) => void;
}) {
  const can = usePermissions();
  const queryClient = useQueryClient();
  const form = useForm<Values>({
    initialValues: { name: '', project: defaultProject ?? null, expires: '', ...emptyLimits, ...emptyRules },
    validate: {
      name: (value) => (value.trim() ? null : 'Give the key a name, such as the tool that will use it'),
      project: (value) => {
        const project = projects.find((candidate) => candidate.id === value);
        if (!project) return 'Choose a project';
        return project.canCreateKey
          ? null
          : (project.createKeyRefusal ?? `${project.name} is at its key limit (${project.keysUsage})`);
      },
      expires: (value) => (!value || value >= today() ? null : 'Choose a date from today on'),
      ...validateLimits,
      ...validateRules,
    },
  });

  const [sections, setSections] = useState<string[]>([]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the dialog opens
  useEffect(() => {
    if (opened && defaultProject && !form.values.project) form.setFieldValue('project', defaultProject);
  }, [opened, defaultProject]);

  const create = useMutation({
    mutationFn: (values: Values) => {
      const policy = limitsBody(values);
      return post<ApiKeyWithSecret>('/api/v1/keys', {
        name: values.name.trim(),
        project: values.project ?? undefined,
        ...(values.expires && { expiresAt: new Date(`${values.expires}T23:59:59`).toISOString() }),
        ...(can.setPolicy && { ...policy, rules: rulesBody(values) }),
      });
    },
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys });
      void queryClient.invalidateQueries({ queryKey: keys.projects });
      form.reset();
      onCreated(key);
    },
  });

  const close = () => {
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Create API key" size="lg">
      <form
        onSubmit={form.onSubmit(
          (values) => create.mutate(values),
          (errors) => setSections((open) => [...new Set([...open, ...sectionsWithErrors(errors)])]),
        )}
        noValidate
      >
        <Stack gap="md">
          <TextInput
            label="Name"
            description="Say what will use it, e.g. my-vscode-plugin"
            placeholder="my-vscode-plugin"
            required
            data-autofocus
            {...form.getInputProps('name')}
          />
          <Group grow align="flex-start">
            <Select
              label="Project"
              required
              data={projects.map((project) => ({
                value: project.id,
                label: `${project.name} — ${project.keysUsage}`,
                disabled: !project.canCreateKey,
              }))}
              allowDeselect={false}
              comboboxProps={{ withinPortal: true }}
              {...form.getInputProps('project')}
            />
            <TextInput
              label="Expires"
              description="Optional; at the end of that day"
              type="date"
              min={today()}
              {...form.getInputProps('expires')}
            />
          </Group>
          {can.setPolicy ? (
            <Accordion
              variant="separated"
              multiple
              value={sections}
              onChange={setSections}
              styles={{ label: { fontSize: 'var(--mantine-font-size-sm)', fontWeight: 600 } }}
            >
              <Accordion.Item value="spend">
                <Accordion.Control>Spend limits</Accordion.Control>
                <Accordion.Panel>
                  <SpendLimitFields form={form} />
                </Accordion.Panel>
              </Accordion.Item>
              <Accordion.Item value="rules">
                <Accordion.Control>IAM rules: models, providers, pricing</Accordion.Control>
                <Accordion.Panel>
                  <RuleFields form={form} />
                </Accordion.Panel>
              </Accordion.Item>
              <Accordion.Item value="rate">
                <Accordion.Control>Rate limits</Accordion.Control>
                <Accordion.Panel>
                  <RateLimitFields form={form} />
                </Accordion.Panel>
              </Accordion.Item>
            </Accordion>
          ) : (
            <Text size="sm" c="dimmed">
              Spend limits, IAM rules and rate limits are set by an admin once the key exists.
            </Text>
          )}
          {create.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create key
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
