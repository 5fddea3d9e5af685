import { Group, NumberInput, Select, SimpleGrid, Stack, TagsInput, Text } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { useModels, useProviders } from '../../api/queries.ts';
import { WINDOW_UNITS } from '../../lib/windows.ts';
import type { LimitsValues, RulesValues } from './policy-form.ts';

const money = { prefix: '$', decimalScale: 2, min: 0, thousandSeparator: ',', allowNegative: false } as const;

export function SpendLimitFields<T extends LimitsValues>({ form }: { form: UseFormReturnType<T> }) {
  const input = (name: keyof LimitsValues) => form.getInputProps(name as never);
  return (
    <Stack gap="sm">
      <NumberInput
        label="All-time limit (USD)"
        description="Lifetime spend cap. Leave empty for none."
        placeholder="No limit"
        {...money}
        {...input('allTimeUsd')}
      />
      <div>
        <Text size="sm" fw={500}>
          Recurring limit
        </Text>
        <Text size="xs" c="dimmed" mb={6}>
          An amount per window, from 1 hour to 12 months. The window starts when the limit is set.
        </Text>
        <Group grow align="flex-start" gap="sm" preventGrowOverflow={false} wrap="wrap">
          <NumberInput label="Amount (USD)" placeholder="No limit" {...money} {...input('recurringUsd')} />
          <NumberInput label="Every" min={1} allowDecimal={false} allowNegative={false} {...input('recurringCount')} />
          <Select
            label="Window unit"
            data={WINDOW_UNITS}
            allowDeselect={false}
            comboboxProps={{ withinPortal: true }}
            {...input('recurringUnit')}
          />
        </Group>
      </div>
    </Stack>
  );
}

export function RateLimitFields<T extends LimitsValues>({ form }: { form: UseFormReturnType<T> }) {
  const input = (name: keyof LimitsValues) => form.getInputProps(name as never);
  const common = { min: 1, allowDecimal: false, allowNegative: false, thousandSeparator: ',', placeholder: 'No limit' };
  return (
    <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="sm">
      <NumberInput label="Requests / minute" {...common} {...input('rpm')} />
      <NumberInput label="Tokens / minute" {...common} {...input('tpm')} />
      <NumberInput label="Concurrent requests" {...common} {...input('maxParallel')} />
    </SimpleGrid>
  );
}

export function RuleFields<T extends RulesValues>({ form }: { form: UseFormReturnType<T> }) {
  const models = useModels();
  const providers = useProviders();
  const input = (name: keyof RulesValues) => form.getInputProps(name as never);
  const modelNames = (models.data ?? []).map((model) => model.name);
  const providerIds = (providers.data ?? []).map((provider) => provider.id);
  const tags = { clearable: true, acceptValueOnBlur: true, comboboxProps: { withinPortal: true } };
  return (
    <Stack gap="sm">
      <Text size="xs" c="dimmed">
        Deny wins over allow; a key without rules may use every model. End a name with * to match a prefix (gpt-4*).
        Press Enter after each name.
      </Text>
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        <TagsInput
          label="Allowed models"
          placeholder="Any model"
          data={modelNames}
          {...tags}
          {...input('allowModels')}
        />
        <TagsInput label="Denied models" placeholder="None" data={modelNames} {...tags} {...input('denyModels')} />
        <TagsInput
          label="Allowed providers"
          placeholder="Any provider"
          data={providerIds}
          {...tags}
          {...input('allowProviders')}
        />
        <TagsInput
          label="Denied providers"
          placeholder="None"
          data={providerIds}
          {...tags}
          {...input('denyProviders')}
        />
      </SimpleGrid>
      <Select
        label="Pricing"
        data={[
          { value: 'any', label: 'Free and paid models' },
          { value: 'free', label: 'Free models only' },
          { value: 'paid', label: 'Paid models only' },
        ]}
        allowDeselect={false}
        comboboxProps={{ withinPortal: true }}
        {...input('pricing')}
      />
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
        <NumberInput
          label="Max input price ($ / 1M tokens)"
          placeholder="No maximum"
          min={0}
          decimalScale={4}
          prefix="$"
          {...input('maxInputPrice')}
        />
        <NumberInput
          label="Max output price ($ / 1M tokens)"
          placeholder="No maximum"
          min={0}
          decimalScale={4}
          prefix="$"
          {...input('maxOutputPrice')}
        />
      </SimpleGrid>
    </Stack>
  );
}
