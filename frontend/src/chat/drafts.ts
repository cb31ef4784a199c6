// What the person is typing, per conversation, in localStorage: it survives reloads and crashes,
// and goes only once the server has saved the message.

import { readJson, remove, writeJson } from '../ui/storage';

const PREFIX = 'hearth.draft.';
export const NEW_CHAT = 'new';

export function loadDraft(conversationId: string | null): string {
  return readJson<string>(PREFIX + (conversationId ?? NEW_CHAT), '');
}

export function saveDraft(conversationId: string | null, text: string): void {
  const key = PREFIX + (conversationId ?? NEW_CHAT);
  if (text) writeJson(key, text);
  else remove(key);
}

export function clearDraft(conversationId: string | null): void {
  remove(PREFIX + (conversationId ?? NEW_CHAT));
}

/** Drop the draft only if it is still the text that was sent (the person may have typed on). */
export function clearDraftIf(conversationId: string | null, sent: string): void {
  if (loadDraft(conversationId) === sent) clearDraft(conversationId);
}
