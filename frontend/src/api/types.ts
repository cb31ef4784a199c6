// The backend's JSON, as the UI reads it. Field names follow the Python side exactly.

export interface ApiErrorBody {
  code: string;
  message: string;
}

/** A piece of a search snippet: `match` marks the words that matched. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

export interface Conversation {
  id: string;
  title: string | null;
  system_prompt: string | null;
  model: string | null;
  created_at: string;
  updated_at: string;
  /** In search results only: the matching piece of a message; null when the title matched. */
  snippet?: SnippetPart[] | null;
}

export interface ConversationPage {
  items: Conversation[];
  total: number;
  offset: number;
  limit: number;
}

export type FinishReason = 'stop' | 'length' | 'stopped' | 'error';

export interface Citation {
  file: string;
  page?: number | null;
  heading?: string | null;
  score: number;
  chunk_id: string | number;
  /** Which library the excerpt is in; with chunk_id it opens the excerpt. */
  library_id?: string;
}

/** A retrieval problem the chat went on without (hearth/docs/service.py `prepare`). */
export interface ChatNotice {
  code: string;
  message: string;
  library_id?: string;
}

/** One excerpt of a document, what a clicked source shows (hearth/docs/service.py `chunk`). */
export interface DocChunk {
  file: string;
  page?: number | null;
  heading?: string | null;
  chunk_id: string;
  library_id: string;
  document_id: string;
  text: string;
  path: string | null;
}

export interface Message {
  id: number;
  conversation_id: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  ttft_ms: number | null;
  tokens_per_s: number | null;
  finish_reason: FinishReason | null;
  meta: { citations?: Citation[]; [key: string]: unknown } | null;
  created_at: string;
  /** The message this one follows (null for a first one); absent from older servers. */
  parent_id?: number | null;
  /** On the listed active path: the alternatives, itself included, oldest first ("‹ 1/2 ›"). */
  sibling_ids?: number[];
  /** 1-based place among sibling_ids. */
  alternative?: number;
  alternatives?: number;
}

export interface SamplingParams {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repeat_penalty?: number;
  max_tokens?: number;
  seed?: number | null;
}

/** Server-Sent Events of a chat run (hearth/chat/service.py). */
export type ChatEvent =
  | { event: 'start'; data: { run_id: string; conversation_id: string; user_message?: Message } }
  | { event: 'queued'; data: { position: number } }
  | { event: 'delta'; data: { content: string } }
  | { event: 'notice'; data: ChatNotice }
  | { event: 'done'; data: { message: Message } }
  | { event: 'error'; data: ApiErrorBody };

export interface GgufInfo {
  architecture: string;
  name: string | null;
  parameter_count: number;
  quantization: string;
  context_length: number | null;
  block_count: number | null;
  has_chat_template: boolean;
  /** How the chat template writes tool calls (backend: library/tool_templates.py); "generic":
   *  the /v1 API teaches the model Hearth's own call format instead. */
  tool_format: ToolFormat;
  is_embedding: boolean;
  file_size: number;
}

export type ToolFormat = 'hermes' | 'llama3' | 'mistral' | 'generic';

/** How a model fits this PC (backend library/fit.py); `reason` is the numbers in words. */
export interface ModelFit {
  mode: 'full' | 'partial' | 'cpu' | 'too_large';
  basis: 'gguf' | 'catalogue' | 'size';
  n_ctx: number | null;
  layers_on_gpu: number | null;
  n_layers: number | null;
  vram_bytes: number;
  ram_bytes: number;
  free_vram_bytes: number | null;
  ram_total_bytes: number | null;
  ram_available_bytes: number | null;
  fits_free_ram: boolean | null;
  reason: string;
}

export interface ModelEntry {
  id: string;
  /** The one name every screen shows: the catalogue's, else the file name without .gguf. */
  name?: string;
  path: string;
  size: number;
  ok: boolean;
  kind: 'chat' | 'embedding' | string | null;
  /** Offered for chat: a chat template, and not an embedding model. */
  chat?: boolean;
  info: GgufInfo | null;
  error: ApiErrorBody | null;
  fit?: ModelFit | null;
}

export interface ModelList {
  models: ModelEntry[];
  /** The model a new chat loads first, chosen by the person (preference) or by Hearth. */
  default_model?: string | null;
  default_source?: 'preference' | 'automatic' | 'none';
  loaded_model?: string | null;
}

export type DownloadState = 'queued' | 'downloading' | 'paused' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface DownloadJob {
  id: string;
  catalogue_id: string;
  filename: string;
  name: string;
  state: DownloadState;
  phase: string | null;
  bytes_done: number;
  bytes_total: number | null;
  rate: number;
  eta_seconds: number | null;
  error: ApiErrorBody | null;
  /** Stopped (paused, or failed offline or mid-way) with the partial file kept: Resume continues. */
  resumable?: boolean;
}

export interface CatalogueEntry {
  id: string;
  name: string;
  description: string;
  kind: string;
  filename: string;
  size: number | null;
  license: string | null;
  installed: boolean;
  download: DownloadJob | null;
  fit?: ModelFit | null;
}

export interface Catalogue {
  models: CatalogueEntry[];
  /** The first run's pick for this PC: the best fit, else the starter model. */
  recommended?: { id: string; why: 'fits' | 'starter' } | null;
}

export interface EngineStatus {
  loaded: { backend: string; model: string; n_ctx: number; details: Record<string, unknown> } | null;
  busy: boolean;
  waiting: number;
  last_load_error: { model: string; message: string } | null;
}

export interface Gpu {
  index: number;
  name: string;
  uuid: string | null;
  memory_total_mib: number | null;
  memory_free_mib: number | null;
  compute_capability: string | null;
}

export interface OffloadPlan {
  n_gpu_layers: number;
  layers_on_gpu: number;
  n_layers: number;
  mode: 'full' | 'partial' | 'cpu';
  source: string;
  estimated_vram_bytes: number;
  free_vram_bytes: number | null;
  reason: string;
}

export interface Variant {
  id: string;
  kind: string;
  cuda: string | null;
  llama_cpp_python: string;
  description: string;
}

export interface Artifact {
  name?: string;
  filename?: string;
  url: string;
  size: number | null;
  sha256?: string | null;
}

export interface Recommendation {
  upgrade: boolean;
  code: string;
  reason: string;
  variant: Variant | null;
  candidate: Variant | null;
  download_bytes: number | null;
  artifacts: Artifact[];
}

/** Which CPU code llama.cpp runs (hearth/runtime/ggml_backends.py). */
export interface CpuBackend {
  dispatched: boolean;
  cpu_variant: string | null;
  /** In words, e.g. "AVX2 (haswell)". */
  cpu_label: string | null;
  /** What HEARTH_CPU_VARIANT asked for, if anything. */
  forced: string | null;
  available: string[];
  backends: string[];
  error: string | null;
}

export interface Capabilities {
  hardware: {
    gpu: {
      status: string;
      reason: string;
      source: string | null;
      gpus: Gpu[];
      driver_version: string | null;
      cuda_driver_version: string | null;
    };
    cpu: {
      model: string | null;
      cores: number | null;
      threads: number | null;
      flags: Record<string, boolean>;
    };
    memory: { total_bytes: number | null; available_bytes: number | null };
    host: { os: string; machine: string; platform_tag: string; python_tag: string };
  };
  detection: { source: string; duration_ms: number; cache: { used: boolean; reason: string } };
  runtime: {
    id: string;
    kind: string;
    llama_cpp_version: string | null;
    llama_cpp_path: string | null;
    supports_gpu_offload: boolean;
    error: string | null;
    /** The ggml backends llama.cpp loaded; null when llama_cpp could not be imported. */
    cpu_backend?: CpuBackend | null;
    offload: {
      model: string;
      layers_offloaded: number | null;
      plan: OffloadPlan;
    } | null;
  };
  recommendation: Recommendation;
  upgrade: {
    pending?: unknown;
    last_revert?: { reason?: string; at?: string | number; [key: string]: unknown } | null;
    last_job?: UpgradeJob | null;
    [key: string]: unknown;
  } | null;
}

export type UpgradeStage =
  | 'resolving'
  | 'checking_disk'
  | 'downloading'
  | 'verifying'
  | 'unpacking'
  | 'probing'
  | 'switching'
  | 'restart_requested'
  | 'done'
  | 'failed'
  | 'cancelled';

export interface UpgradeJob {
  id: string;
  variant: string | null;
  kind: string | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  stage: UpgradeStage;
  bytes_done: number;
  bytes_total: number | null;
  rate: number | null;
  eta_seconds: number | null;
  error: ApiErrorBody | null;
  result: {
    cpu_tokens_per_s: number | null;
    new_tokens_per_s: number | null;
    speedup: number | null;
    offloaded_layers: number | null;
  } | null;
  reverted_to_cpu: boolean;
  /** What the job is doing, in words (optional). */
  message?: string;
  started_at: number | string | null;
  updated_at: number | string | null;
}

export interface PreferenceValues {
  n_threads: number | null;
  n_ctx: number | null;
  n_parallel: number | null;
  n_gpu_layers: number | null;
  default_model: string | null;
}

/** The UI's own choices, kept by the backend so that they outlive web mode's per-port origin. */
export interface UiPreferenceValues {
  theme: 'light' | 'dark' | 'system' | null;
  onboarded: boolean | null;
  sampling: Partial<Record<'temperature' | 'max_tokens' | 'top_p' | 'repeat_penalty', number | null>> | null;
  upgrade_seen: string | null;
}

export interface PreferencesDoc {
  preferences: PreferenceValues & Partial<UiPreferenceValues>;
  effective: PreferenceValues & { n_ctx: number; sources: Record<string, string> };
  bounds: Record<string, { minimum: number | null; maximum: number | null; description: string }>;
  problem: string | null;
  unloaded?: boolean;
}

export interface OffloadEstimate {
  model: string;
  n_layers: number;
  /** The context the model is loaded with: the setting, capped at `trained_ctx`. */
  n_ctx: number;
  trained_ctx?: number | null;
  free_vram_bytes: number | null;
  gpu_offload: boolean;
  auto: OffloadPlan;
  chosen: OffloadPlan | null;
  estimates: number[];
}

export interface GpuSample {
  index: number;
  name: string;
  util_percent: number | null;
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
}

export interface MetricsSample {
  t: number;
  cpu: { percent: number | null; per_core: number[] };
  memory: { total_bytes: number; used_bytes: number; percent: number };
  process: { rss_bytes: number; cpu_percent: number };
  gpus: GpuSample[] | null;
  gpu_reason: string | null;
}

export interface AnswerSpeed {
  message_id: number;
  conversation_id: string;
  model: string | null;
  /** null: too short, or stopped too soon, to have a speed; the answer still counts. */
  tokens_per_s: number | null;
  ttft_ms: number | null;
  completion_tokens: number | null;
  finish_reason?: FinishReason | null;
  created_at: string;
}

/** GET /api/metrics/answers: the latest answers, oldest first, and how many there are in all. */
export interface AnswerHistory {
  answers: AnswerSpeed[];
  /** Every answer stored (alternatives included); more than answers.length past the limit. */
  total?: number;
}

/** A document library (hearth/docs/service.py `describe`): counts and whether it can be searched. */
export interface DocLibrary {
  id: string;
  name: string;
  /** Set: the files attached in that one conversation, not a library of the Documents page. */
  conversation_id: string | null;
  embedding_model: { name: string; sha256: string | null } | null;
  created_at: string;
  updated_at: string;
  documents: number;
  indexed: number;
  failed: number;
  pending: number;
  chunks: number;
  state: 'ready' | 'empty' | 'no_embedding_model' | 'reindex_required';
  state_message: string | null;
  active_job: IngestJob | null;
}

/** GET /api/conversations/{id}/attachments: the files attached in one chat. */
export interface ChatAttachments {
  library: DocLibrary | null;
  documents: DocDocument[];
  jobs: IngestJob[];
}

export interface DocDocument {
  id: string;
  library_id: string;
  path: string;
  name: string;
  kind: string | null;
  size: number | null;
  sha256: string | null;
  status: 'indexed' | 'failed' | 'pending';
  reason_code: string | null;
  reason: string | null;
  pages: number | null;
  chunks: number;
  updated_at: string;
}

/** What an ingest job did with one file (hearth/docs/jobs.py `FileResult`). */
export interface IngestFileResult {
  path: string;
  file: string;
  status: 'indexed' | 'unchanged' | 'failed' | 'removed' | 'skipped';
  reason_code: string | null;
  reason: string | null;
  chunks: number;
  pages: number;
  document_id: string | null;
}

export type IngestJobStatus = 'queued' | 'running' | 'done' | 'cancelled' | 'failed';

export interface IngestJob {
  id: string;
  library_id: string;
  kind: 'ingest' | 'reindex';
  status: IngestJobStatus;
  files_total: number;
  files_done: number;
  pages_done: number;
  embedded: number;
  current: string | null;
  error: ApiErrorBody | null;
  cancel_requested: boolean;
  results?: IngestFileResult[];
}

export interface IngestProgress {
  files_done: number;
  files_total: number;
  pages_done: number;
  embedded: number;
  current: string | null;
  file_chunks_done?: number;
  file_chunks_total?: number;
}

/** Server-Sent Events of an ingest job. */
export type IngestEvent =
  | { event: 'queued'; data: IngestJob }
  | { event: 'started'; data: { id: string } }
  | { event: 'progress'; data: IngestProgress }
  | { event: 'file'; data: IngestFileResult }
  | { event: 'done'; data: IngestJob };

export interface DocumentsStatus {
  embedding_model: { name: string; sha256: string } | null;
  embedding_problem: ApiErrorBody | null;
}

/** Settings → Local API server (hearth/api/local_server.py): Hearth's API on a fixed port. */
export interface ApiServerStatus {
  enabled: boolean;
  port: number;
  lan: boolean;
  listening: boolean;
  /** Why the configured server is not listening (a busy port), or null. */
  error: string | null;
  base_url: string;
  lan_urls: string[];
}

export interface ApiServerChange {
  enabled: boolean;
  port: number;
  lan: boolean;
  /** The person's "yes" to serving the local network; required to turn it on. */
  confirm_lan?: boolean;
}

export type ApiKeyRole = 'read' | 'user' | 'admin';

/** An API key for other programs (hearth/keys/store.py); times are Unix seconds. */
export interface ApiKey {
  id: number;
  name: string;
  role: ApiKeyRole;
  hint: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A new key: its secret is in this answer only. */
export interface NewApiKey extends ApiKey {
  secret: string;
}

export interface ApiKeyLimits {
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

export interface AuditEntry {
  id: number;
  key_id: number;
  method: string;
  route: string;
  status: number;
  at: number;
}

/** A batch of OpenAI requests run in the background (hearth/batches, OpenAI's Batch object). */
export type BatchStatus =
  'validating' | 'in_progress' | 'finalizing' | 'completed' | 'failed' | 'cancelling' | 'cancelled' | 'expired';

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface Batch {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  errors: { object: 'list'; data: BatchError[] } | null;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface BatchPage {
  object: 'list';
  data: Batch[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}
