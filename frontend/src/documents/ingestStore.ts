// Uploads and ingest jobs of every library, and files attached in chats, kept for the app's
// lifetime so that leaving the page neither stops an upload nor forgets what became of it.
// The I/O edge around tasks.ts: XHR uploads (for their progress), then each job's event stream.

import type { Api } from '../api/client';
import { CHAT_ATTACH_PATH, DOCUMENT_UPLOAD_PATH, documents } from '../api/endpoints';
import type { IngestJob } from '../api/types';
import { uploadFile } from '../api/upload';
import type { UploadOptions } from '../api/upload';
import type { Bus } from '../app/context';
import type { Task } from './tasks';
import {
  accepted,
  applyEvent,
  cancelled,
  failed,
  isFinished,
  jobTask,
  refusedTask,
  uploadTask,
  uploading,
} from './tasks';

type Upload = (api: Api, path: string, file: Blob, options: UploadOptions) => Promise<IngestJob>;

export class IngestStore {
  private tasks: Task[] = [];
  private listeners = new Set<() => void>();
  private aborts = new Map<string, AbortController>();
  private next = 1;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: Api,
    private readonly bus: Bus,
    private readonly upload: Upload = uploadFile,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get = (): Task[] => this.tasks;

  /** Upload files into a library one after another; each becomes its own ingest job. */
  add(libraryId: string, files: File[]): Promise<void> {
    return this.enqueue(files, (key, file) => uploadTask(key, libraryId, file));
  }

  /** Attach files to one conversation only: they go to its own library, made on the first. */
  attach(conversationId: string, files: File[]): Promise<void> {
    return this.enqueue(files, (key, file) => uploadTask(key, '', file, conversationId));
  }

  private enqueue(files: File[], make: (key: string, file: File) => Task): Promise<void> {
    const keys = files.map((file) => {
      const task = make(`t${this.next++}`, file);
      this.tasks = [...this.tasks, task];
      return task.key;
    });
    this.changed();
    // One upload at a time, across calls: the jobs run one at a time on the backend anyway.
    const run = this.queue.then(async () => {
      for (const [i, key] of keys.entries()) await this.uploadOne(key, files[i]);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Rebuild a library's vectors with today's embedding model. */
  async reindex(libraryId: string): Promise<void> {
    const key = `t${this.next++}`;
    try {
      const job = await documents.reindex(this.api, libraryId);
      this.tasks = [...this.tasks, jobTask(key, job)];
      this.changed();
      void this.follow(key, job);
    } catch (error) {
      this.tasks = [...this.tasks, refusedTask(key, libraryId, 'reindex', (error as Error).message)];
      this.changed();
    }
  }

  /** A job the backend runs for this library that this page did not start (or lost track of). */
  resume(job: IngestJob, conversationId: string | null = null): void {
    if (this.tasks.some((t) => t.jobId === job.id)) return;
    const key = `t${this.next++}`;
    this.tasks = [...this.tasks, jobTask(key, job, conversationId)];
    this.changed();
    void this.follow(key, job);
  }

  async cancel(key: string): Promise<void> {
    const task = this.find(key);
    if (!task || isFinished(task)) return;
    if (!task.jobId) {
      this.aborts.get(key)?.abort();
      this.update(key, cancelled);
      return;
    }
    this.update(key, (t) => ({ ...t, cancelRequested: true }));
    try {
      await documents.cancel(this.api, task.libraryId, task.jobId);
    } catch (error) {
      this.update(key, (t) => ({ ...t, cancelRequested: false, error: (error as Error).message }));
    }
  }

  /** Forget one finished task (a chat's chip closed). */
  dismiss(key: string): void {
    this.tasks = this.tasks.filter((t) => t.key !== key || !isFinished(t));
    this.changed();
  }

  /** Forget a library's finished tasks (the documents table keeps what they did). */
  clearFinished(libraryId: string): void {
    this.tasks = this.tasks.filter((t) => t.libraryId !== libraryId || !isFinished(t));
    this.changed();
  }

  /** A deleted library: stop following its jobs and drop its tasks. */
  forget(libraryId: string): void {
    for (const task of this.tasks) if (task.libraryId === libraryId) this.aborts.get(task.key)?.abort();
    this.tasks = this.tasks.filter((t) => t.libraryId !== libraryId);
    this.changed();
  }

  private async uploadOne(key: string, file: File): Promise<void> {
    const task = this.find(key);
    if (!task || task.stage !== 'pending') return; // cancelled while waiting its turn
    const controller = new AbortController();
    this.aborts.set(key, controller);
    this.update(key, (t) => uploading(t, 0, file.size));
    let job: IngestJob;
    try {
      const [path, target] = task.conversationId
        ? [CHAT_ATTACH_PATH, { conversation_id: task.conversationId }]
        : [DOCUMENT_UPLOAD_PATH, { library_id: task.libraryId }];
      job = await this.upload(this.api, path, file, {
        query: { ...target, filename: file.name },
        signal: controller.signal,
        onProgress: ({ loaded, total }) => this.update(key, (t) => uploading(t, loaded, total)),
      });
    } catch (error) {
      this.aborts.delete(key);
      if ((error as Error).name === 'AbortError') this.update(key, cancelled);
      else this.update(key, (t) => failed(t, `${file.name} was not added: ${(error as Error).message}`));
      return;
    }
    this.aborts.delete(key);
    this.update(key, (t) => accepted(t, job));
    void this.follow(key, job);
  }

  private async follow(key: string, job: IngestJob): Promise<void> {
    const controller = new AbortController();
    this.aborts.set(key, controller);
    try {
      for await (const message of documents.events(this.api, job.library_id, job.id, controller.signal)) {
        this.update(key, (t) => applyEvent(t, message));
        // A file finished: its row in the table (and the library's counts) changed.
        if (message.event === 'file' || message.event === 'done') this.bus.emit('documents');
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        this.update(key, (t) => failed(t, `Lost track of this job: ${(error as Error).message}`));
      }
    } finally {
      this.aborts.delete(key);
    }
  }

  private find(key: string): Task | undefined {
    return this.tasks.find((t) => t.key === key);
  }

  private update(key: string, change: (task: Task) => Task): void {
    this.tasks = this.tasks.map((t) => (t.key === key ? change(t) : t));
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
