/** An admin API call, as both in-process (`startTollgate`) and spawned Tollgates offer it. */
export type AdminCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

/**
 * What one call to a model published by `publishMetered` costs: the fake provider answers 10
 * completion tokens, priced $1000 per million, and the prompt is free, so a call's worst case
 * (with `max_tokens: 10`) is exactly its cost and budgets can be counted in calls.
 */
export const CALL_USD = 0.01;

/**
 * Publishes a fake OpenAI-format provider as the credential `fake` and, for each name, a model
 * on the given upstream model (the fake reads `slow-<ms>`, `fail-<status>`…) at those prices.
 */
export async function publishMetered(
  admin: AdminCall,
  provider: { url: string; apiKey: string },
  models: Record<string, string> = { metered: 'gpt-4o' },
): Promise<void> {
  await admin('POST', '/api/v1/credentials', {
    name: 'fake',
    provider: 'openai',
    fields: { apiKey: provider.apiKey, baseUrl: provider.url },
  });
  for (const [name, upstreamModel] of Object.entries(models)) {
    await admin('POST', '/api/v1/models', {
      name,
      targets: [{ credential: 'fake', upstreamModel }],
      inputPrice: 0,
      outputPrice: 1000,
    });
  }
}
