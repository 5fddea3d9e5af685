import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text, Textarea } from '@mantine/core';
import { IconAlertTriangle, IconCheck, IconCopy } from '@tabler/icons-react';
import { useModels } from '../../api/queries.ts';

/** The only time a key is shown: after it was created or rotated. */
export function KeyRevealModal({
  secret,
  name,
  rotated,
  onClose,
}: {
  secret: string | undefined;
  name: string;
  rotated?: boolean;
  onClose: () => void;
}) {
  const base = `${window.location.origin}/v1`;
  const model = useModels().data?.[0]?.name ?? 'gpt-4o';
  return (
    <Modal
      opened={secret !== undefined}
      onClose={onClose}
      title={rotated ? `New secret for ${name}` : `API key ${name} created`}
      size="lg"
      closeOnClickOutside={false}
      closeOnEscape={false}
    >
      <Stack gap="md">
        <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />} title="Copy it now">
          This is the only time the key is shown. Tollgate keeps only a hash of it: if you lose it, rotate the key or
          create a new one.
        </Alert>
        <Group gap="sm" wrap="nowrap" align="flex-end">
          <Textarea
            label="Your API key"
            value={secret ?? ''}
            readOnly
            autosize
            minRows={1}
            onFocus={(event) => event.currentTarget.select()}
            data-testid="new-api-key"
            classNames={{ input: 'tg-key-secret' }}
            style={{ flex: 1 }}
          />
          <CopyButton value={secret ?? ''} timeout={2500}>
            {({ copied, copy }) => (
              <Button
                onClick={copy}
                color={copied ? 'teal' : undefined}
                leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                mb={4}
              >
                {copied ? 'Copied' : 'Copy key'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <div>
          <Text size="sm" fw={500} mb={6}>
            Use it with any OpenAI-compatible client
          </Text>
          <Code
            block
          >{`base URL: ${base}\napi key:  ${secret ?? ''}\n\ncurl ${base}/chat/completions \\\n  -H "Authorization: Bearer $TOLLGATE_API_KEY" \\\n  -H "content-type: application/json" \\\n  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello"}]}'`}</Code>
        </div>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            I have saved the key
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
