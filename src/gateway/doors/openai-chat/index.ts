import { renderError, TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import { usageFromOpenAI } from '../../metering/cost.ts';
import { applyOutputCap } from '../../policy/spend-reservation.ts';
import type { ChatRequest } from '../../providers/adapter.ts';
import { checkChatRequest } from '../../request-checks.ts';
import { chatOutputText } from '../chunk-text.ts';
import type { FrontDoor } from '../door.ts';
import { providerErrorIn } from '../provider-error.ts';
import { ChunkWriter } from './chunk-writer.ts';
import { OpenAIStreamTap } from './stream-tap.ts';

const wantsUsage = (body: Json) => (body.stream_options as Json | undefined)?.include_usage === true;

/** `POST /v1/chat/completions`: OpenAI Chat Completions, the gateway's own internal language. */
export const openaiChatDoor: FrontDoor = {
  path: '/v1/chat/completions',
  endpoint: 'chat.completions',
  dialect: 'openai',

  toChat(body) {
    checkChatRequest(body);
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new TollgateError('TG_ERR_INVALID_REQUEST', '"messages" must be a non-empty array');
    }
    if (body.stream !== undefined && typeof body.stream !== 'boolean') {
      throw new TollgateError('TG_ERR_INVALID_REQUEST', '"stream" must be true or false');
    }
    return body as ChatRequest;
  },

  native: (target) => target.adapter.spec.format === 'openai',

  nativeRequest(body, target, exchange, stream) {
    const request = { ...body, model: target.upstreamModel } as ChatRequest;
    applyOutputCap(request, target.provider, exchange.grantedMaxTokens);
    return target.adapter.chatRequest(request, target.credential, stream);
  },

  nativeAnswer(answer, target) {
    if (answer.error && !Array.isArray(answer.choices)) {
      return { usage: undefined, outputText: '', error: providerErrorIn(target.provider, answer.error, 'an error') };
    }
    return { usage: usageFromOpenAI(answer.usage as never), outputText: chatOutputText(answer) };
  },

  nativeTap: (body, target) => new OpenAIStreamTap(target.provider, wantsUsage(body)),
  fromChat: (completion) => completion,
  streamFromChat: (body) => new ChunkWriter(wantsUsage(body)),
  streamError: (failure) => `data: ${renderError(failure, 'openai')}\n\n`,
};
