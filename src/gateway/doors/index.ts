import { anthropicMessagesDoor } from './anthropic-messages/index.ts';
import type { FrontDoor } from './door.ts';
import { openaiChatDoor } from './openai-chat/index.ts';
import { responsesDoor } from './openai-responses/index.ts';

/** Every front door the gateway serves: one line each. */
export const DOORS: readonly FrontDoor[] = [openaiChatDoor, anthropicMessagesDoor, responsesDoor];
