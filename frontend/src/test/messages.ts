import type { Message } from '../api/types';

let next = 100;

export function message(role: Message['role'], content: string, extra: Partial<Message> = {}): Message {
  return {
    id: next++,
    conversation_id: 'c1',
    role,
    content,
    model: role === 'assistant' ? 'SmolLM2.gguf' : null,
    prompt_tokens: null,
    completion_tokens: role === 'assistant' ? 7 : null,
    ttft_ms: role === 'assistant' ? 120 : null,
    tokens_per_s: role === 'assistant' ? 42.5 : null,
    finish_reason: role === 'assistant' ? 'stop' : null,
    meta: null,
    created_at: '2026-01-01T10:00:00.000000Z',
    ...extra,
  };
}
