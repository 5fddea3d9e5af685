import { TollgateError } from '../../errors.ts';
import type { Json } from '../admission.ts';
import type { Exchange } from '../exchange.ts';
import { applyOutputCap } from '../policy/spend-reservation.ts';
import type { ChatRequest, HttpCall } from '../providers/adapter.ts';
import type { Target } from '../routing/model-registry.ts';
import type { FrontDoor } from './door.ts';

/** The provider call for one target: the door's own body when the target speaks it, else the chat request. */
export function callFor(door: FrontDoor, exchange: Exchange, body: Json, chat: ChatRequest, stream: boolean) {
  return async (target: Target): Promise<HttpCall> => {
    if (door.native(target)) return door.nativeRequest(body, target, exchange, stream);
    const refusal = door.untranslatable?.(body, target);
    if (refusal) throw refusal;
    const request = { ...chat, model: target.upstreamModel } as ChatRequest;
    applyOutputCap(request, target.provider, exchange.grantedMaxTokens);
    return target.adapter.chatRequest(request, target.credential, stream);
  };
}

/** A client that went away: what the provider was sent is billed (counted), never $0 and never the reservation. */
export function clientGone(exchange: Exchange, error: unknown): boolean {
  return exchange.abort.signal.aborted || (error instanceof TollgateError && error.code === 'TG_ERR_CLIENT_CLOSED');
}
