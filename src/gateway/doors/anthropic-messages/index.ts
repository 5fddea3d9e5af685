import { renderError, TollgateError } from '../../../errors.ts';
import type { Json } from '../../admission.ts';
import type { Usage } from '../../metering/cost.ts';
import type { ChatRequest, HttpCall, OpenAIObject } from '../../providers/adapter.ts';
import { anthropicHeaders, messagesUrl } from '../../providers/anthropic/request.ts';
import { usageFromAnthropicMessage } from '../../providers/anthropic/usage.ts';
import { fitUserId, OPENAI_USER_ID_MAX } from '../../providers/shared/end-user.ts';
import { checkMessagesRequest } from '../../request-checks.ts';
import { ChunksToMessageEvents, chatToMessages, messagesToChat } from '../../translate/anthropic-messages.ts';
import { chatOutputText } from '../chunk-text.ts';
import type { FrontDoor, StreamTranslator } from '../door.ts';
import { providerErrorIn } from '../provider-error.ts';
import { AnthropicStreamTap, messageOutputText } from './stream-tap.ts';

/** Request headers an Anthropic caller may set that the Anthropic API should see too. */
const FORWARDED = ['anthropic-beta'];

/** Chat chunks → Anthropic events, announcing the prompt's size in `message_start` as Anthropic does. */
class MessageEventWriter implements StreamTranslator {
  readonly #events: ChunksToMessageEvents;
  outputText = '';

  constructor(model: string, inputTokens: number) {
    this.#events = new ChunksToMessageEvents(model, { inputTokens });
  }

  push(chunk: OpenAIObject): string[] {
    this.outputText += chatOutputText(chunk as Json);
    return this.#events.push(chunk);
  }

  end(usage: Usage | undefined): string[] {
    return this.#events.end(usage);
  }
}

/**
 * `POST /v1/messages`: Anthropic's Messages API, so the Anthropic SDK and Claude Code work —
 * served by any provider; an Anthropic target gets the caller's body as it came.
 */
export const anthropicMessagesDoor: FrontDoor = {
  path: '/v1/messages',
  endpoint: 'messages',
  dialect: 'anthropic',

  toChat(body) {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new TollgateError('TG_ERR_INVALID_REQUEST', '"messages" must be a non-empty array');
    }
    checkMessagesRequest(body);
    // Policy works on the chat form: the same rules, reservation and output cap for every door.
    const chat = { ...messagesToChat(body), model: body.model } as ChatRequest;
    // Chat's `user` is capped (64) where Anthropic's `user_id` is not: Claude Code's ~150-character
    // one would be refused by OpenAI-format providers. A long one becomes a stable hash.
    if (typeof chat.user === 'string') chat.user = fitUserId(chat.user, OPENAI_USER_ID_MAX);
    return chat;
  },

  native: (target) => target.adapter.spec.format === 'anthropic',

  async nativeRequest(body, target, exchange): Promise<HttpCall> {
    const request: Json = { ...body, model: target.upstreamModel };
    if (exchange.grantedMaxTokens !== undefined) request.max_tokens = exchange.grantedMaxTokens;
    const headers = anthropicHeaders(target.credential);
    for (const name of FORWARDED) {
      const value = exchange.request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    return { url: messagesUrl(target.credential), headers, body: JSON.stringify(request) };
  },

  nativeAnswer(answer, target) {
    if (answer.type === 'error') {
      return { usage: undefined, outputText: '', error: providerErrorIn(target.provider, answer.error, 'an error') };
    }
    return { usage: usageFromAnthropicMessage(answer), outputText: messageOutputText(answer) };
  },

  nativeTap: (_body, target) => new AnthropicStreamTap(target.provider),
  fromChat: (completion, body) => chatToMessages(completion, String(body.model)) as unknown as Json,
  streamFromChat: (body, promptTokens) => new MessageEventWriter(String(body.model), promptTokens()),
  streamError: (failure) => `event: error\ndata: ${renderError(failure, 'anthropic')}\n\n`,
};
