// Documents in a chat, in plain words, and the small decisions behind the header control. Pure.

import { ApiError } from '../api/client';
import type { ChatNotice, DocLibrary } from '../api/types';
import { plural } from '../ui/format';

/** The header control's text: which libraries this conversation searches. */
export function documentsLabel(attached: Pick<DocLibrary, 'name'>[]): string {
  if (attached.length === 0) return 'Documents';
  if (attached.length === 1) return `Documents: ${attached[0].name}`;
  return `Documents: ${plural(attached.length, 'library', 'libraries')}`;
}

/** The ids after ticking (on) or unticking one library, in the order they were chosen. */
export function toggled(ids: string[], id: string, on: boolean): string[] {
  const rest = ids.filter((x) => x !== id);
  return on ? [...rest, id] : rest;
}

/** Why a library may give this chat nothing, or null when it can be searched. */
export function libraryWarning(library: DocLibrary): string | null {
  switch (library.state) {
    case 'ready':
      return null;
    case 'empty':
      return 'It has no indexed documents yet, so it adds nothing to answers.';
    case 'no_embedding_model':
    case 'reindex_required':
      return library.state_message ?? 'It cannot be searched right now.';
  }
}

/** "page 3", "Setup", "page 3 · Setup" or "" for where in a file an excerpt is. */
export function excerptWhere(source: { page?: number | null; heading?: string | null }): string {
  const parts: string[] = [];
  if (source.page !== undefined && source.page !== null) parts.push(`page ${source.page}`);
  if (source.heading) parts.push(source.heading);
  return parts.join(' · ');
}

/** Why an excerpt cannot be shown, for a person who clicked a source. */
export function excerptProblem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'chunk_not_found') {
      return 'This passage is no longer in the library: its document was removed or changed since this answer.';
    }
    if (error.code === 'library_not_found') return 'The library this passage came from has been deleted.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The notices saved with an answer (meta.notices), tolerating older or foreign shapes. */
export function noticesOf(meta: unknown): ChatNotice[] {
  const list = (meta as { notices?: unknown } | null)?.notices;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (n): n is ChatNotice => typeof n === 'object' && n !== null && typeof (n as ChatNotice).message === 'string',
  );
}
