import { Alert, Button, Divider, Group, Modal, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { errorMessage, patch } from '../../api/client.ts';
import { keys } from '../../api/queries.ts';
import type { ApiKey } from '../../api/types.ts';
import { formatDateTime, formatUsd } from '../../lib/format.ts';
import { RateLimitFields, RuleFields, SpendLimitFields } from './policy-fields.tsx';
import {
  type LimitsValues,
  limitsBody,
  limitsOf,
  type RulesValues,
  rulesBody,
  rulesOf,
  validateLimits,
  validateRules,
} from './policy-form.ts';

function useKeyPatch(key: ApiKey, onDone: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: unknown) => patch<ApiKey>(`/api/v1/keys/${key.id}`, body),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys });
      onDone();
    },
  });
}

function Actions({ pending, onCancel, label }: { pending: boolean; onCancel: () => void; label: string }) {
  return (
    <Group justify="flex-end">
      <Button variant="default" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={pending}>
        {label}
      </Button>
    </Group>
  );
}

export function EditLimitsModal({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const form = useForm<LimitsValues>({ initialValues: limitsOf(apiKey), validate: validateLimits });
  const save = useKeyPatch(apiKey, onClose);
  const period = apiKey.spend?.period;
  return (
    <Modal opened onClose={onClose} title={`Limits of ${apiKey.name}`} size="lg">
      <form onSubmit={form.onSubmit((values) => save.mutate(limitsBody(values)))} noValidate>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Spent so far: {formatUsd(apiKey.spend?.allTimeUsd ?? 0)} in total
            {period && `, ${formatUsd(period.spentUsd)} this period (resets ${formatDateTime(period.end)})`}. Changing
            only the amount keeps the current window; changing the window starts a new one now.
          </Text>
          <SpendLimitFields form={form} />
          <Divider label="Rate limits" labelPosition="left" />
          <RateLimitFields form={form} />
          {save.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Actions pending={save.isPending} onCancel={onClose} label="Save limits" />
        </Stack>
      </form>
    </Modal>
  );
}

export function EditRulesModal({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const form = useForm<RulesValues>({ initialValues: rulesOf(apiKey.rules), validate: validateRules });
  const save = useKeyPatch(apiKey, onClose);
  return (
    <Modal opened onClose={onClose} title={`IAM rules of ${apiKey.name}`} size="lg">
      <form onSubmit={form.onSubmit((values) => save.mutate({ rules: rulesBody(values) }))} noValidate>
        <Stack gap="md">
          <RuleFields form={form} />
          {save.error && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Actions pending={save.isPending} onCancel={onClose} label="Save rules" />
        </Stack>
      </form>
    </Modal>
  );
}
