/**
 * Bedrock's own message from an error body: `{"message": "..."}` (some AWS front ends send
 * `Message`). The error's type travels in the `x-amzn-errortype` header, not the body.
 */
export function errorMessage(payload: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(payload)) as {
      message?: unknown;
      Message?: unknown;
    };
    const message = parsed?.message ?? parsed?.Message;
    return typeof message === 'string' && message !== '' ? message : undefined;
  } catch {
    return undefined;
  }
}
