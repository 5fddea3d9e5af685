import {
  ActionIcon,
  Alert,
  Button,
  Checkbox,
  Divider,
  Group,
  Modal,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { errorMessage, patch, post } from '../../api/client.ts';
import { keys, useCredentials } from '../../api/queries.ts';
import type { Model, PriceField } from '../../api/types.ts';
import { ManagedWarning } from '../../components/managed-badge.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { Loading } from '../../components/query-state.tsx';
import { type NumberValue, toNumber } from '../keys/policy-form.ts';

interface TargetValues {
  credential: string | null;
  upstreamModel: string;
  weight: NumberValue;
  priority: NumberValue;
  timeoutMs: NumberValue;
}

interface Values {
  name: string;
  free: boolean;
  inputPrice: NumberValue;
  outputPrice: NumberValue;
  cachedInputPrice: NumberValue;
  cacheWriteInputPrice: NumberValue;
  cacheWrite1hInputPrice: NumberValue;
  retries: NumberValue;
  maxOutputTokens: NumberValue;
  targets: TargetValues[];
}

const emptyTarget = (priority: number): TargetValues => ({
  credential: null,
  upstreamModel: '',
  weight: 1,
  priority,
  timeoutMs: '',
});

/** A price as the form shows it: the value when an admin gave it, empty when it follows a rule. */
function given(model: Model, field: PriceField): NumberValue {
  const value = model[field] as number | null;
  return model.priceSources?.[field] === 'given' && value !== null ? value : '';
}

/** The placeholder of an empty cache price: what it is now, and why. */
function cachePlaceholder(model: Model | undefined, field: PriceField): string {
  if (!model) return 'Derived from the input price';
  const value = model[field] as number | null;
  const source = model.priceSources?.[field];
  if (value === null) return field === 'cacheWrite1hInputPrice' ? 'The 5-minute write price' : 'The input price';
  return `$${value} (${source === 'catalogue' ? 'catalogue' : 'derived'})`;
}

function initial(model: Model | undefined): Values {
  if (!model) {
    return {
      name: '',
      free: false,
      inputPrice: '',
      outputPrice: '',
      cachedInputPrice: '',
      cacheWriteInputPrice: '',
      cacheWrite1hInputPrice: '',
      retries: 1,
      maxOutputTokens: '',
      targets: [emptyTarget(0)],
    };
  }
  return {
    name: model.name,
    free: model.inputPrice === 0 && model.outputPrice === 0,
    inputPrice: model.inputPrice,
    outputPrice: model.outputPrice,
    // Cache prices an admin did not set stay empty, so they keep following the input price.
    cachedInputPrice: given(model, 'cachedInputPrice'),
    cacheWriteInputPrice: given(model, 'cacheWriteInputPrice'),
    cacheWrite1hInputPrice: given(model, 'cacheWrite1hInputPrice'),
    retries: model.retries,
    maxOutputTokens: model.maxOutputTokens ?? '',
    targets: model.targets.map((target) => ({
      credential: target.credentialId,
      upstreamModel: target.upstreamModel,
      weight: target.weight,
      priority: target.priority,
      timeoutMs: target.timeoutMs ?? '',
    })),
  };
}

/**
 * The API body. Prices left empty are not sent: a new model then takes them from the price
 * catalogue (or is refused with a message saying so), an edited one keeps its own.
 */
function body(values: Values) {
  const price = (value: NumberValue) => (values.free ? 0 : toNumber(value));
  const cache = (value: NumberValue) => (values.free ? 0 : toNumber(value));
  const cached = cache(values.cachedInputPrice);
  const write = cache(values.cacheWriteInputPrice);
  const write1h = cache(values.cacheWrite1hInputPrice);
  return {
    name: values.name.trim(),
    inputPrice: price(values.inputPrice),
    outputPrice: price(values.outputPrice),
    ...(cached !== undefined && { cachedInputPrice: cached }),
    ...(write !== undefined && { cacheWriteInputPrice: write }),
    ...(write1h !== undefined && { cacheWrite1hInputPrice: write1h }),
    retries: toNumber(values.retries) ?? 1,
    maxOutputTokens: toNumber(values.maxOutputTokens) ?? null,
    targets: values.targets.map((target) => ({
      credential: target.credential ?? '',
      upstreamModel: target.upstreamModel.trim(),
      weight: toNumber(target.weight) ?? 1,
      priority: toNumber(target.priority) ?? 0,
      timeoutMs: toNumber(target.timeoutMs) ?? null,
    })),
  };
}

export function ModelFormModal({ model, onClose }: { model?: Model; onClose: () => void }) {
  const credentials = useCredentials();
  const queryClient = useQueryClient();
  const form = useForm<Values>({
    initialValues: initial(model),
    validate: {
      name: (value) => (/^\S+$/.test(value.trim()) ? null : 'A public name without spaces, e.g. gpt-4o'),
      targets: {
        credential: (value) => (value ? null : 'Choose a credential'),
        upstreamModel: (value) => (value.trim() ? null : "The provider's model id, e.g. gpt-4o-2024-08-06"),
      },
    },
  });
  const save = useMutation({
    mutationFn: (values: Values) =>
      model ? patch<Model>(`/api/v1/models/${model.id}`, body(values)) : post<Model>('/api/v1/models', body(values)),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: keys.models });
      void queryClient.invalidateQueries({ queryKey: keys.credentials });
      notifySuccess(model ? `Model ${saved.name} saved` : `Model ${saved.name} published`);
      onClose();
    },
  });
  const options = (credentials.data ?? []).map((credential) => ({
    value: credential.id,
    label: `${credential.name} (${credential.provider})`,
  }));
  const priceInput = { min: 0, decimalScale: 4, prefix: '$', disabled: form.values.free } as const;

  return (
    <Modal opened onClose={onClose} title={model ? `Edit ${model.name}` : 'Publish a model'} size="xl">
      {credentials.isPending ? (
        <Loading />
      ) : options.length === 0 ? (
        <Stack>
          <Text size="sm">
            A model is served through a provider credential, and there is none yet.{' '}
            <Link to="/credentials">Add a provider credential</Link> first.
          </Text>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
          <Stack gap="md">
            <ManagedWarning managedBy={model?.managedBy} kind="model" />
            <TextInput
              label="Public name"
              description="What callers put in the model field"
              placeholder="gpt-4o"
              required
              data-autofocus
              {...form.getInputProps('name')}
            />
            <Divider label="Targets" labelPosition="left" />
            <Text size="xs" c="dimmed" mt={-8}>
              Tried in priority order (lowest first) on 429s, 5xx errors and timeouts; targets with the same priority
              share load by weight.
            </Text>
            {form.values.targets.map((_, index) => (
              <Paper withBorder p="sm" radius="md" key={form.key(`targets.${index}`)}>
                <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
                  <Select
                    label={`Credential (target ${index + 1})`}
                    required
                    data={options}
                    allowDeselect={false}
                    comboboxProps={{ withinPortal: true }}
                    {...form.getInputProps(`targets.${index}.credential`)}
                  />
                  <TextInput
                    label="Upstream model"
                    required
                    placeholder="gpt-4o-2024-08-06"
                    {...form.getInputProps(`targets.${index}.upstreamModel`)}
                  />
                </SimpleGrid>
                <Group mt="sm" align="flex-end" gap="sm">
                  <NumberInput
                    label="Weight"
                    min={0}
                    max={1000}
                    allowDecimal={false}
                    w={110}
                    {...form.getInputProps(`targets.${index}.weight`)}
                  />
                  <NumberInput
                    label="Priority"
                    min={0}
                    max={1000}
                    allowDecimal={false}
                    w={110}
                    {...form.getInputProps(`targets.${index}.priority`)}
                  />
                  <NumberInput
                    label="Timeout (ms)"
                    placeholder="Default"
                    min={100}
                    allowDecimal={false}
                    thousandSeparator=","
                    w={150}
                    {...form.getInputProps(`targets.${index}.timeoutMs`)}
                  />
                  {form.values.targets.length > 1 && (
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      size="lg"
                      mb={2}
                      aria-label={`Remove target ${index + 1}`}
                      onClick={() => form.removeListItem('targets', index)}
                    >
                      <IconTrash size={18} />
                    </ActionIcon>
                  )}
                </Group>
              </Paper>
            ))}
            <Group>
              <Button
                variant="light"
                size="xs"
                leftSection={<IconPlus size={14} />}
                onClick={() => form.insertListItem('targets', emptyTarget(form.values.targets.length))}
              >
                Add a fallback target
              </Button>
            </Group>
            <Divider label="Prices (USD per million tokens)" labelPosition="left" />
            <Text size="xs" c="dimmed" mt={-8}>
              Leave empty to use Tollgate's price catalogue for the first target's model. Cache prices left empty follow
              the input price by the provider's ratios (Claude: reads 0.1×, 5-minute writes 1.25×, 1-hour writes 2×).
            </Text>
            <Checkbox label="Free model (no cost is recorded)" {...form.getInputProps('free', { type: 'checkbox' })} />
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <NumberInput
                label="Input"
                placeholder="From the catalogue"
                {...priceInput}
                {...form.getInputProps('inputPrice')}
              />
              <NumberInput
                label="Output"
                placeholder="From the catalogue"
                {...priceInput}
                {...form.getInputProps('outputPrice')}
              />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
              <NumberInput
                label="Cached input"
                description="Cache reads"
                placeholder={cachePlaceholder(model, 'cachedInputPrice')}
                {...priceInput}
                {...form.getInputProps('cachedInputPrice')}
              />
              <NumberInput
                label="Cache write"
                description="Written for 5 minutes"
                placeholder={cachePlaceholder(model, 'cacheWriteInputPrice')}
                {...priceInput}
                {...form.getInputProps('cacheWriteInputPrice')}
              />
              <NumberInput
                label="Cache write, 1 hour"
                description="Written for 1 hour"
                placeholder={cachePlaceholder(model, 'cacheWrite1hInputPrice')}
                {...priceInput}
                {...form.getInputProps('cacheWrite1hInputPrice')}
              />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <NumberInput
                label="Retries per target"
                min={0}
                max={5}
                allowDecimal={false}
                {...form.getInputProps('retries')}
              />
              <NumberInput
                label="Max output tokens"
                placeholder="Provider default"
                min={1}
                allowDecimal={false}
                thousandSeparator=","
                {...form.getInputProps('maxOutputTokens')}
              />
            </SimpleGrid>
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
                {model ? 'Save model' : 'Publish model'}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
