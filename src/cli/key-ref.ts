import type { AdminClient } from './client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The API addresses keys by id only; the CLI also accepts a key's name when exactly one key
 * bears it, so `tollgate keys disable ci-bot` works.
 */
export async function resolveKeyId(client: AdminClient, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const { keys } = await client.get<{ keys: Array<{ id: string; name: string }> }>('/api/v1/keys');
  const matches = keys.filter((key) => key.name === ref);
  if (matches.length === 1) return (matches[0] as { id: string }).id;
  if (matches.length === 0) throw new Error(`No API key with the id or name "${ref}"`);
  throw new Error(
    `${matches.length} API keys are named "${ref}"; use an id: ${matches.map((key) => key.id).join(', ')}`,
  );
}
