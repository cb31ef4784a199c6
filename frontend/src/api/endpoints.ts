// Typed calls, one per backend route the UI uses. Routes live in hearth/api/*.py.

import type { Api } from './client';
import type {
  AnswerHistory,
  ApiKey,
  ApiKeyLimits,
  ApiKeyRole,
  ApiServerChange,
  ApiServerStatus,
  AuditEntry,
  Batch,
  BatchPage,
  Capabilities,
  Catalogue,
  ChatAttachments,
  ChatEvent,
  Conversation,
  ConversationPage,
  DocChunk,
  DocDocument,
  DocLibrary,
  DocumentsStatus,
  DownloadJob,
  EngineStatus,
  IngestEvent,
  IngestJob,
  Message,
  ModelList,
  NewApiKey,
  OffloadEstimate,
  PreferencesDoc,
  PreferenceValues,
  SamplingParams,
  UiPreferenceValues,
  UpgradeJob,
} from './types';

const enc = encodeURIComponent;

export interface SendOptions {
  model?: string | null;
  params: SamplingParams;
  signal?: AbortSignal;
}

function chatBody(options: SendOptions, content?: string) {
  return {
    ...(content !== undefined ? { content } : {}),
    ...(options.model ? { model: options.model } : {}),
    params: options.params,
  };
}

export const conversations = {
  list: (api: Api, q?: string, limit = 100) => api.get<ConversationPage>('/api/conversations', { query: { q, limit } }),
  create: (api: Api, body: Partial<Pick<Conversation, 'title' | 'system_prompt' | 'model'>> = {}) =>
    api.post<Conversation>('/api/conversations', body),
  get: (api: Api, id: string) => api.get<Conversation>(`/api/conversations/${enc(id)}`),
  update: (api: Api, id: string, changes: Partial<Pick<Conversation, 'title' | 'system_prompt' | 'model'>>) =>
    api.patch<Conversation>(`/api/conversations/${enc(id)}`, changes),
  remove: (api: Api, id: string) => api.delete<void>(`/api/conversations/${enc(id)}`),
  messages: (api: Api, id: string) => api.get<Message[]>(`/api/conversations/${enc(id)}/messages`),
};

export const chat = {
  send: (api: Api, id: string, content: string, options: SendOptions) =>
    api.events<ChatEvent['data']>('POST', `/api/conversations/${enc(id)}/messages`, {
      body: chatBody(options, content),
      signal: options.signal,
    }) as AsyncGenerator<ChatEvent>,
  regenerate: (api: Api, id: string, options: SendOptions) =>
    api.events<ChatEvent['data']>('POST', `/api/conversations/${enc(id)}/regenerate`, {
      body: chatBody(options),
      signal: options.signal,
    }) as AsyncGenerator<ChatEvent>,
  edit: (api: Api, id: string, messageId: number, content: string, options: SendOptions) =>
    api.events<ChatEvent['data']>('POST', `/api/conversations/${enc(id)}/messages/${messageId}/edit`, {
      body: chatBody(options, content),
      signal: options.signal,
    }) as AsyncGenerator<ChatEvent>,
  follow: (api: Api, id: string, signal?: AbortSignal) =>
    api.events<ChatEvent['data']>('GET', `/api/conversations/${enc(id)}/stream`, {
      signal,
    }) as AsyncGenerator<ChatEvent>,
  stop: (api: Api, id: string) => api.post<{ stopped: boolean }>(`/api/conversations/${enc(id)}/stop`),
  /** Show another alternative of a message; the answer is the new active path, as listed. */
  select: (api: Api, id: string, messageId: number) =>
    api.post<Message[]>(`/api/conversations/${enc(id)}/messages/${messageId}/select`),
};

export const models = {
  list: (api: Api) => api.get<ModelList>('/api/models'),
  remove: (api: Api, id: string) => api.delete<{ deleted: string }>(`/api/models/${enc(id)}`),
  catalogue: (api: Api) => api.get<Catalogue>('/api/models/catalogue'),
  download: (api: Api, catalogueId: string) =>
    api.post<DownloadJob>('/api/models/downloads', { catalogue_id: catalogueId }),
  pause: (api: Api, jobId: string) => api.post<DownloadJob>(`/api/models/downloads/${enc(jobId)}/pause`),
  resume: (api: Api, jobId: string) => api.post<DownloadJob>(`/api/models/downloads/${enc(jobId)}/resume`),
  cancel: (api: Api, jobId: string) => api.delete<DownloadJob>(`/api/models/downloads/${enc(jobId)}`),
  downloadEvents: (api: Api, jobId: string, signal?: AbortSignal) =>
    api.events<DownloadJob>('GET', `/api/models/downloads/${enc(jobId)}/events`, { signal }),
};

export const engine = {
  status: (api: Api) => api.get<{ version: string; engine: EngineStatus }>('/api/status'),
  load: (api: Api, model: string) => api.post<{ loaded: unknown }>('/api/engine/load', { model }),
  unload: (api: Api) => api.post<{ loaded: null }>('/api/engine/unload', {}),
};

export const capabilities = {
  get: (api: Api) => api.get<Capabilities>('/api/capabilities'),
  refresh: (api: Api) => api.post<Capabilities>('/api/capabilities/refresh'),
};

export const preferences = {
  get: (api: Api) => api.get<PreferencesDoc>('/api/preferences'),
  put: (api: Api, changes: Partial<PreferenceValues & UiPreferenceValues>) =>
    api.put<PreferencesDoc>('/api/preferences', changes),
  offload: (api: Api, layers?: number | null) =>
    api.get<OffloadEstimate>('/api/preferences/offload', { query: { layers } }),
};

export const upgrade = {
  current: (api: Api) => api.get<{ job: UpgradeJob | null }>('/api/admin/upgrade-gpu'),
  start: (api: Api, variant?: string | null) =>
    api.post<UpgradeJob>('/api/admin/upgrade-gpu', variant ? { variant } : {}),
  get: (api: Api, id: string) => api.get<UpgradeJob>(`/api/admin/upgrade-gpu/${enc(id)}`),
  cancel: (api: Api, id: string) => api.delete<UpgradeJob>(`/api/admin/upgrade-gpu/${enc(id)}`),
  events: (api: Api, id: string, signal?: AbortSignal) =>
    api.events<UpgradeJob>('GET', `/api/admin/upgrade-gpu/${enc(id)}/events`, { signal }),
  rollback: (api: Api) => api.post<unknown>('/api/admin/runtime/rollback'),
};

export const metrics = {
  answers: (api: Api, limit = 60) => api.get<AnswerHistory>('/api/metrics/answers', { query: { limit } }),
};

export const documents = {
  status: (api: Api) => api.get<DocumentsStatus>('/api/documents/status'),
  libraries: (api: Api) => api.get<DocLibrary[]>('/api/libraries'),
  library: (api: Api, id: string) => api.get<DocLibrary>(`/api/libraries/${enc(id)}`),
  create: (api: Api, name: string) => api.post<DocLibrary>('/api/libraries', { name }),
  rename: (api: Api, id: string, name: string) => api.patch<DocLibrary>(`/api/libraries/${enc(id)}`, { name }),
  remove: (api: Api, id: string) => api.delete<void>(`/api/libraries/${enc(id)}`),
  list: (api: Api, id: string) => api.get<DocDocument[]>(`/api/libraries/${enc(id)}/documents`),
  removeDocument: (api: Api, id: string, documentId: string) =>
    api.delete<DocDocument>(`/api/libraries/${enc(id)}/documents/${enc(documentId)}`),
  reindex: (api: Api, id: string) => api.post<IngestJob>(`/api/libraries/${enc(id)}/reindex`),
  cancel: (api: Api, id: string, jobId: string) =>
    api.post<IngestJob>(`/api/libraries/${enc(id)}/jobs/${enc(jobId)}/cancel`),
  events: (api: Api, id: string, jobId: string, signal?: AbortSignal) =>
    api.events<IngestEvent['data']>('GET', `/api/libraries/${enc(id)}/jobs/${enc(jobId)}/events`, {
      signal,
    }) as AsyncGenerator<IngestEvent>,
  chunk: (api: Api, id: string, chunkId: string) =>
    api.get<DocChunk>(`/api/libraries/${enc(id)}/chunks/${enc(chunkId)}`),
  /** The libraries a conversation's questions search. */
  attached: (api: Api, conversationId: string) =>
    api.get<DocLibrary[]>(`/api/conversations/${enc(conversationId)}/libraries`),
  attach: (api: Api, conversationId: string, libraryIds: string[]) =>
    api.put<DocLibrary[]>(`/api/conversations/${enc(conversationId)}/libraries`, { library_ids: libraryIds }),
  /** The files attached in one chat (its own library); upload more to CHAT_ATTACH_PATH. */
  attachments: (api: Api, conversationId: string) =>
    api.get<ChatAttachments>(`/api/conversations/${enc(conversationId)}/attachments`),
};

/** Where a document upload goes (hearth/api/documents.py UPLOAD_PATH); the body is the file. */
export const DOCUMENT_UPLOAD_PATH = '/api/documents/upload';
/** Where a file attached in a chat goes (ATTACH_PATH), with conversation_id and filename. */
export const CHAT_ATTACH_PATH = '/api/documents/attach';

/** Settings → Local API server: on or off, its port and the local network (admin). */
export const apiServer = {
  get: (api: Api) => api.get<ApiServerStatus>('/api/admin/api-server'),
  put: (api: Api, change: ApiServerChange) => api.put<ApiServerStatus>('/api/admin/api-server', change),
};

/** API keys for other programs, and the audit log of their calls (admin). */
export const apiKeys = {
  list: (api: Api) => api.get<{ keys: ApiKey[] }>('/api/admin/keys'),
  create: (api: Api, body: { name: string; role: ApiKeyRole } & Partial<ApiKeyLimits>) =>
    api.post<NewApiKey>('/api/admin/keys', body),
  setLimits: (api: Api, id: number, limits: ApiKeyLimits) => api.patch<ApiKey>(`/api/admin/keys/${id}`, limits),
  revoke: (api: Api, id: number) => api.delete<ApiKey>(`/api/admin/keys/${id}`),
  audit: (api: Api, limit = 20, keyId?: number) =>
    api.get<{ entries: AuditEntry[] }>('/api/admin/audit', { query: { limit, key_id: keyId } }),
};

/** OpenAI's Batch API as the UI shows it (hearth/api/batches.py). */
export const batches = {
  list: (api: Api, limit = 20) => api.get<BatchPage>('/v1/batches', { query: { limit } }),
  cancel: (api: Api, id: string) => api.post<Batch>(`/v1/batches/${enc(id)}/cancel`),
  /** A file's bytes (a batch's results), fetched with the token, for the browser to save. */
  content: async (api: Api, fileId: string) => (await api.raw('GET', `/v1/files/${enc(fileId)}/content`)).blob(),
};
