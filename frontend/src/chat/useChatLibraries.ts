// Which document libraries a conversation searches. A new chat has no conversation yet (ChatView
// creates it on the first send), so its choice is a draft, attached by `commit` right after.

import { useCallback, useEffect, useRef, useState } from 'react';
import { documents } from '../api/endpoints';
import type { DocLibrary } from '../api/types';
import { useApp, useBus } from '../app/context';

export interface ChatLibraries {
  /** Every library, to tick from; null until loaded. */
  all: DocLibrary[] | null;
  /** The ticked libraries: the conversation's, or the new chat's draft. */
  attached: DocLibrary[];
  attachedIds: string[];
  saving: boolean;
  error: string | null;
  set: (ids: string[]) => Promise<void>;
  /** Attach the new chat's draft to the conversation just created for it; throws on refusal. */
  commit: (conversationId: string) => Promise<void>;
  /** Read the list of libraries again (the panel does so when it opens). */
  reload: () => Promise<void>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function useChatLibraries(id: string | null): ChatLibraries {
  const { api } = useApp();
  const [all, setAll] = useState<DocLibrary[] | null>(null);
  const [saved, setSaved] = useState<DocLibrary[]>([]);
  // Ticked but not yet confirmed: the boxes follow the hand, and a second tick builds on the first.
  const [ticked, setTicked] = useState<string[] | null>(null);
  const [draft, setDraft] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  // Only the newest answer counts: an older PUT, or another conversation's, may land after it.
  const latest = useRef(0);

  const loadAll = useCallback(async () => {
    try {
      setAll(await documents.libraries(api));
    } catch (err) {
      setError(message(err));
    }
  }, [api]);
  useEffect(() => {
    void loadAll();
  }, [loadAll]);
  useBus('documents', loadAll);

  const loadAttached = useCallback(() => {
    if (!id) return;
    const ticket = ++latest.current;
    documents.attached(api, id).then(
      (libraries) => ticket === latest.current && setSaved(libraries),
      (err: unknown) => ticket === latest.current && setError(message(err)),
    );
  }, [api, id]);
  useEffect(() => {
    setError(null);
    setSaved([]);
    setTicked(null);
    loadAttached();
  }, [loadAttached]);
  // A file attached in this chat made (or filled) its own library.
  useBus('documents', loadAttached);

  const byIds = (ids: string[]) => ids.flatMap((x) => all?.filter((l) => l.id === x) ?? []);
  // A drafted library deleted meanwhile is dropped rather than refused at the first send.
  const draftLibraries = byIds(draft);
  const attached = id ? (ticked ? byIds(ticked) : saved) : draftLibraries;
  const attachedIds = id ? (ticked ?? saved.map((l) => l.id)) : draftLibraries.map((l) => l.id);

  const set = useCallback(
    async (ids: string[]) => {
      if (!id) {
        setDraft(ids);
        return;
      }
      const ticket = ++latest.current;
      setTicked(ids);
      try {
        const libraries = await documents.attach(api, id, ids);
        if (ticket !== latest.current) return;
        setSaved(libraries);
        setError(null);
      } catch (err) {
        if (ticket !== latest.current) return;
        setError(message(err));
      }
      setTicked(null);
    },
    [api, id],
  );

  const commit = async (conversationId: string) => {
    if (draftLibraries.length === 0) return;
    await documents.attach(
      api,
      conversationId,
      draftLibraries.map((l) => l.id),
    );
    setDraft([]);
  };

  return { all, attached, attachedIds, saving: ticked !== null, error, set, commit, reload: loadAll };
}
