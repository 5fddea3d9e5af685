import type { Json } from '../../admission.ts';
import type { Usage } from '../../metering/cost.ts';
import type { OpenAIObject } from '../../providers/adapter.ts';
import { chatOutputText } from '../chunk-text.ts';
import type { StreamTranslator } from '../door.ts';
import { isUsageOnly } from './stream-tap.ts';

/** Chat chunks from a translating provider, written as OpenAI's stream: the door's format is the internal one. */
export class ChunkWriter implements StreamTranslator {
  outputText = '';

  constructor(private readonly callerWantsUsage: boolean) {}

  push(chunk: OpenAIObject): string[] {
    this.outputText += chatOutputText(chunk as Json);
    if (!this.callerWantsUsage && isUsageOnly(chunk as Json)) return [];
    return [`data: ${JSON.stringify(chunk)}\n\n`];
  }

  end(_usage: Usage | undefined): string[] {
    return ['data: [DONE]\n\n'];
  }
}
