import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../../errors.ts';
import { toChat, translate } from './request.ts';

const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

describe('Responses request → chat request', () => {
  it('turns a string input and instructions into a system and a user message', () => {
    const chat = toChat({ model: 'gpt', instructions: 'Be brief.', input: 'Hello', max_output_tokens: 50 });
    expect(chat).toEqual({
      model: 'gpt',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      max_tokens: 50,
    });
  });

  it('maps message items of every role, developer becoming system, with text and image parts', () => {
    const chat = toChat({
      model: 'gpt',
      input: [
        { role: 'developer', content: 'Answer in French.' },
        { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'No emoji.' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
          ],
        },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A dot.', annotations: [] }] },
        { role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'system', content: 'No emoji.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: 'A dot.' },
      { role: 'user', content: 'Thanks' },
    ]);
  });

  it('joins function calls to the assistant turn and makes their outputs tool messages', () => {
    const chat = toChat({
      model: 'gpt',
      input: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: '4°C' }] },
      ],
      tools: [weather],
    });
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      { role: 'tool', tool_call_id: 'call_2', content: '4°C' },
    ]);
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: weather.parameters,
          strict: true,
        },
      },
    ]);
  });

  it('starts an assistant turn with no text for a function call that follows a user message', () => {
    const chat = toChat({
      model: 'gpt',
      input: [
        { role: 'user', content: 'Weather?' },
        { type: 'function_call', call_id: 'c', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c', output: 'sunny' },
      ],
    });
    expect(chat.messages[1]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
    });
  });

  it('moves images a tool returned into a user message after the tool results', () => {
    const image = { type: 'input_image', image_url: 'https://example.com/chart.png' };
    const chat = toChat({
      model: 'gpt',
      input: [
        { type: 'function_call', call_id: 'a', name: 'chart', arguments: '{}' },
        { type: 'function_call', call_id: 'b', name: 'chart', arguments: '{}' },
        { type: 'function_call_output', call_id: 'a', output: [{ type: 'input_text', text: 'chart A' }, image] },
        { type: 'function_call_output', call_id: 'b', output: 'no chart' },
        { role: 'user', content: 'Compare them' },
      ],
    });
    expect(chat.messages.map((message) => message.role)).toEqual(['assistant', 'tool', 'tool', 'user', 'user']);
    expect(chat.messages[3]).toEqual({
      role: 'user',
      content: [{ type: 'image_url', image_url: { url: 'https://example.com/chart.png' } }],
    });
  });

  it('maps the settings chat has words for', () => {
    const chat = toChat({
      model: 'gpt',
      input: 'Hi',
      temperature: 0.3,
      top_p: 0.9,
      tools: [weather],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'city', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low', summary: 'auto' },
      safety_identifier: 'user-42',
      metadata: { team: 'search' },
      store: true,
      stream: true,
    });
    expect(chat).toMatchObject({
      temperature: 0.3,
      top_p: 0.9,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object' }, strict: true } },
      reasoning_effort: 'low',
      user: 'user-42',
      stream: true,
      stream_options: { include_usage: true },
    });
    // Echoed on the response, not sent: providers that take chat would refuse fields they do not know.
    expect(chat).not.toHaveProperty('metadata');
    expect(chat).not.toHaveProperty('store');
  });

  it("keeps the end-user id within chat's 64 characters, as a stable hash when longer", () => {
    const long = 'u'.repeat(200);
    const first = toChat({ model: 'gpt', input: 'Hi', user: long }).user;
    expect(first).toMatch(/^tg_[0-9a-f]{32}$/);
    expect(toChat({ model: 'gpt', input: 'Hi', safety_identifier: long }).user).toBe(first);
    expect(toChat({ model: 'gpt', input: 'Hi', user: 'alice' }).user).toBe('alice');
  });

  it('narrows the tools to those an allowed_tools choice names', () => {
    const other = { ...weather, name: 'get_time' };
    const chat = toChat({
      model: 'gpt',
      input: 'Hi',
      tools: [weather, other],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'get_time' }] },
    });
    expect(chat.tool_choice).toBe('required');
    expect((chat.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      'get_time',
    ]);
  });

  it('leaves out the tools OpenAI runs itself (web search, file search, …), as the Anthropic door does', () => {
    const { chat, refusal } = translate({
      model: 'gpt',
      input: 'Hi',
      tools: [{ type: 'web_search', external_web_access: false }, { type: 'file_search' }, weather],
    });
    expect(refusal).toBeUndefined();
    expect((chat.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      'get_weather',
    ]);
  });

  it('flattens namespaced function tools (Codex sends them), keeping names the model can tell apart', () => {
    const spawn = { type: 'function', name: 'spawn_agent', parameters: { type: 'object', properties: {} } };
    const clash = { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} } };
    const { chat, refusal } = translate({
      model: 'gpt',
      input: [
        { role: 'user', content: 'Go' },
        { type: 'function_call', call_id: 'c1', name: 'spawn_agent', namespace: 'agents', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'get_weather', namespace: 'agents', arguments: '{}' },
      ],
      tools: [weather, { type: 'namespace', name: 'agents', description: 'Sub-agents', tools: [spawn, clash] }],
    });
    expect(refusal).toBeUndefined();
    expect((chat.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      'get_weather',
      'spawn_agent',
      'agents__get_weather',
    ]);
    expect(
      (chat.messages[1]!.tool_calls as Array<{ function: { name: string } }>).map((call) => call.function.name),
    ).toEqual(['spawn_agent', 'agents__get_weather']);
  });

  it("takes custom (free-form) tools, such as Codex's apply_patch, as functions of one string", () => {
    const patch = {
      type: 'custom',
      name: 'apply_patch',
      description: 'Edit files.',
      format: { type: 'grammar', syntax: 'lark', definition: 'start: "*** Begin Patch"' },
    };
    const { chat, refusal } = translate({
      model: 'gpt',
      input: [
        { role: 'user', content: 'Fix it' },
        { type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: '*** Begin Patch\n' },
        { type: 'custom_tool_call_output', call_id: 'c1', output: 'Done' },
      ],
      tools: [patch, { type: 'tool_search', execution: 'client' }],
    });
    expect(refusal).toBeUndefined();
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'apply_patch',
          description: 'Edit files.\n\nThe input must follow this lark grammar:\nstart: "*** Begin Patch"',
          parameters: {
            type: 'object',
            properties: { input: { type: 'string', description: 'The free-form input, as plain text (not JSON).' } },
            required: ['input'],
          },
        },
      },
    ]);
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'Done' },
    ]);
  });

  it('drops reasoning items, which only the model that wrote them can read', () => {
    const { chat, refusal } = translate({
      model: 'gpt',
      input: [
        { role: 'user', content: 'Hi' },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAA' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
    expect(refusal).toBeUndefined();
    expect(chat.messages).toHaveLength(2);
  });

  it.each([
    [{ previous_response_id: 'resp_1', input: 'And then?' }, /"previous_response_id" needs state that OpenAI keeps/],
    [{ conversation: 'conv_1', input: 'Hi' }, /"conversation"/],
    [{ input: 'Hi', tools: [{ type: 'local_shell' }] }, /tools of type "local_shell" cannot be sent/],
    [{ input: 'Hi', tool_choice: { type: 'web_search' } }, /only OpenAI runs/],
    [
      {
        input: [
          { type: 'item_reference', id: 'msg_1' },
          { role: 'user', content: 'Hi' },
        ],
      },
      /item_reference/,
    ],
    [{ input: [{ type: 'computer_call_output', call_id: 'c', output: {} }] }, /"computer_call_output"/],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, /"file_id"/],
    [{ input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, /"input_audio"/],
    [{ input: 'Hi', background: true }, /"background"/],
  ])('gives the chat form but a refusal for translation when the body needs OpenAI: %j', (fields, reason) => {
    const { chat, refusal } = translate({ model: 'gpt', ...fields });
    expect(chat.model).toBe('gpt');
    expect(refusal).toMatch(reason);
  });

  it('accepts a stored-response continuation with no input (for an OpenAI target)', () => {
    const { chat, refusal } = translate({ model: 'gpt', previous_response_id: 'resp_1' });
    expect(chat.messages).toEqual([]);
    expect(refusal).toMatch(/previous_response_id/);
  });

  it.each([
    [{}, /"input" is required/],
    [{ input: [] }, /"input" must not be empty/],
    [{ input: 42 }, /"input" must be a string or an array/],
    [{ input: ['Hi'] }, /input\[0\] must be an object/],
    [{ input: [{ role: 'tool', content: 'x' }] }, /role must be/],
    [{ input: [{ role: 'user', content: 7 }] }, /content must be a string or an array/],
    [{ input: [{ type: 'function_call', name: 'f' }] }, /needs "call_id" and "name"/],
    [{ input: [{ type: 'function_call_output', output: 'x' }] }, /needs "call_id"/],
    [{ input: 'Hi', instructions: ['x'] }, /"instructions" must be a string/],
    [{ input: 'Hi', tools: {} }, /"tools" must be an array/],
    [{ input: 'Hi', tools: [{ type: 'function' }] }, /needs a "name"/],
    [{ input: 'Hi', stream: 'yes' }, /"stream" must be true or false/],
    [{ input: 'Hi', max_output_tokens: -1 }, /"max_output_tokens" must be a whole number/],
    [{ input: 'Hi', max_output_tokens: Number.POSITIVE_INFINITY }, /"max_output_tokens" must be a whole number/],
    [{ input: 'Hi', safety_identifier: 'a\u0000b' }, /NUL/],
  ])('refuses a malformed body with a 400 for every target: %j', (fields, message) => {
    let error: unknown;
    try {
      toChat({ model: 'gpt', ...fields });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ code: 'TG_ERR_INVALID_REQUEST', status: 400 });
    expect((error as Error).message).toMatch(message);
  });

  it('never fails with anything but a 400 of its own, whatever the body holds', () => {
    const part = fc.oneof(
      fc.record({ type: fc.constantFrom('input_text', 'output_text', 'refusal', 'input_image', 'input_file', 'x') }),
      fc.record({ type: fc.constant('input_image'), image_url: fc.oneof(fc.string(), fc.jsonValue()) }),
      fc.jsonValue(),
    );
    const item = fc.oneof(
      fc.record(
        {
          role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool'),
          content: fc.oneof(fc.string(), fc.array(part)),
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          type: fc.constantFrom('function_call', 'function_call_output', 'reasoning', 'item_reference', 'message'),
          call_id: fc.oneof(fc.string(), fc.jsonValue()),
          name: fc.jsonValue(),
          namespace: fc.jsonValue(),
          output: fc.oneof(fc.string(), fc.array(part), fc.jsonValue()),
        },
        { requiredKeys: ['type'] },
      ),
      fc.jsonValue(),
    );
    const tool = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom('function', 'namespace', 'web_search', 'custom'),
          name: fc.jsonValue(),
          tools: fc.jsonValue(),
          parameters: fc.jsonValue(),
        },
        { requiredKeys: ['type'] },
      ),
      fc.jsonValue(),
    );
    const body = fc.record(
      {
        input: fc.oneof(fc.string(), fc.array(item), fc.jsonValue()),
        instructions: fc.oneof(fc.string(), fc.jsonValue()),
        tools: fc.oneof(fc.array(tool), fc.jsonValue()),
        tool_choice: fc.jsonValue(),
        text: fc.jsonValue(),
        reasoning: fc.jsonValue(),
        previous_response_id: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(body, (fields) => {
        try {
          const chat = toChat({ model: 'gpt', ...fields });
          expect(Array.isArray(chat.messages)).toBe(true);
          const { refusal } = translate({ model: 'gpt', ...fields });
          expect(refusal === undefined || typeof refusal === 'string').toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(TollgateError);
          expect((error as TollgateError).status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
  });
});
