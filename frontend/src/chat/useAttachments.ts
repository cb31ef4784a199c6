// Files attached in one chat: what the backend holds (its own library's documents) and what this
// window is uploading or indexing now (the app-wide ingest store, so leaving the chat stops
// nothing). A new chat has no conversation yet: ChatView creates it before the first file.

import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { documents } from '../api/endpoints';
import type { DocDocument, DocumentsStatus } from '../api/types';
import { useApp, useBus } from '../app/context';
import type { Task } from '../documents/tasks';

export interface Attachments {
  /** Whether an embedding model can read files; null until asked. */
  status: DocumentsStatus | null;
  /** Uploads and jobs of this conversation's files, oldest first. */
  tasks: Task[];
  /** Files the conversation already has that no task here stands for. */
  stored: DocDocument[];
  attach: (conversationId: string, files: File[]) => void;
  cancel: (key: string) => void;
  /** Take a finished file out of the chat: its document (if it became one) and its chip. */
  remove: (item: { task?: Task; document?: DocDocument }) => Promise<void>;
  error: string | null;
}

export function useAttachments(id: string | null): Attachments {
  const { api, ingest } = useApp();
  const all = useSyncExternalStore(ingest.subscribe, ingest.get);
  const [status, setStatus] = useState<DocumentsStatus | null>(null);
  const [stored, setStored] = useState<{ id: string; documents: DocDocument[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadStatus = useCallback(() => {
    documents.status(api).then(setStatus, () => undefined);
  }, [api]);
  useEffect(loadStatus, [loadStatus]);
  useBus('models', loadStatus); // an embedding model downloaded, imported or deleted

  const loadStored = useCallback(() => {
    if (!id) return;
    documents.attachments(api, id).then(
      (found) => {
        setStored({ id, documents: found.documents });
        for (const job of found.jobs) ingest.resume(job, id);
      },
      () => undefined, // a chat that is gone says so elsewhere
    );
  }, [api, id, ingest]);
  useEffect(loadStored, [loadStored]);
  useBus('documents', loadStored);

  const tasks = id ? all.filter((t) => t.conversationId === id) : [];
  const named = new Set(tasks.map((t) => t.name));
  const documentsHere = stored && stored.id === id ? stored.documents : [];

  return {
    status,
    tasks,
    stored: documentsHere.filter((d) => !named.has(d.name)),
    attach: (conversationId, files) => void ingest.attach(conversationId, files),
    cancel: (key) => void ingest.cancel(key),
    remove: async ({ task, document }) => {
      const documentId = document?.id ?? task?.results.find((r) => r.document_id)?.document_id;
      const libraryId = document?.library_id ?? task?.libraryId;
      setError(null);
      try {
        if (documentId && libraryId) await documents.removeDocument(api, libraryId, documentId);
      } catch (err) {
        setError(`${document?.name ?? task?.name} was not removed: ${(err as Error).message}`);
        return;
      }
      if (task) ingest.dismiss(task.key);
      loadStored();
    },
    error,
  };
}
