import type { Json } from '../../admission.ts';
import type { HttpCall } from '../../providers/adapter.ts';
import { unsupported } from '../../providers/shared/refusals.ts';
import type { Target } from '../../routing/model-registry.ts';
import type { FrontDoor } from '../door.ts';
import { toChat, translate } from './request.ts';
import { chatToResponse } from './response.ts';
import { ChunksToResponseEvents, errorEvent } from './stream.ts';
import { ResponsesStreamTap, readResponse } from './tap.ts';

/** Whether the target serves the Responses API itself (OpenAI, Azure OpenAI). */
const native = (target: Target) =>
  target.adapter.spec.endpoints.includes('responses') && target.adapter.responsesRequest !== undefined;

/**
 * `POST /v1/responses`: OpenAI's Responses API, so Codex-style clients and the Vercel AI SDK's
 * default OpenAI model work — stateless, served by any provider. An OpenAI or Azure target gets
 * the caller's body untouched (its model id and the output cap swapped in), `store` and
 * `previous_response_id` included; any other target gets the chat form, and a body only OpenAI
 * can serve (stored state, hosted tools) is refused for it with a 400.
 */
export const responsesDoor: FrontDoor = {
  path: '/v1/responses',
  endpoint: 'responses',
  dialect: 'openai',

  toChat,

  untranslatable(body, target) {
    const { refusal } = translate(body);
    return refusal === undefined ? undefined : unsupported(target.provider, refusal);
  },

  native,

  async nativeRequest(body, target, exchange, stream): Promise<HttpCall> {
    const request: Json = { ...body, model: target.upstreamModel };
    if (exchange.grantedMaxTokens !== undefined) request.max_output_tokens = exchange.grantedMaxTokens;
    if (stream) request.stream = true;
    // `native` holds only for adapters that have it.
    return (target.adapter.responsesRequest as NonNullable<typeof target.adapter.responsesRequest>)(
      request,
      target.credential,
    );
  },

  nativeAnswer: (answer, target) => readResponse(answer, target.provider),
  nativeTap: (_body, target) => new ResponsesStreamTap(target.provider),
  fromChat: (completion, body) => chatToResponse(completion, body) as unknown as Json,
  streamFromChat: (body) => new ChunksToResponseEvents(body),
  streamError: (failure) => errorEvent(failure),
};
