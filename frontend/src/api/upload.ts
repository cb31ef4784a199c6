// File uploads with progress: fetch cannot report upload progress, XMLHttpRequest can.

import { ApiError, withQuery } from './client';
import type { Api } from './client';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  query?: Record<string, string>;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** For tests: a constructor with XMLHttpRequest's shape. */
  xhr?: () => XMLHttpRequest;
}

/** POST a file as the raw request body (not multipart) and return the JSON answer. */
export async function uploadFile<T>(api: Api, path: string, file: Blob, options: UploadOptions = {}): Promise<T> {
  const state = await api.connection.start();
  if (state.kind !== 'ready') throw new ApiError(401, 'unauthorized', 'Not signed in.');
  const { base, token } = state.backend;
  return new Promise<T>((resolve, reject) => {
    const xhr = options.xhr ? options.xhr() : new XMLHttpRequest();
    xhr.open('POST', `${base}${withQuery(path, options.query)}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (event) => {
      options.onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    };
    xhr.onload = () => {
      let body: { code?: string; message?: string } | null = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else
        reject(
          new ApiError(
            xhr.status,
            body?.code ?? `http_${xhr.status}`,
            body?.message ?? `The upload failed (HTTP ${xhr.status}).`,
          ),
        );
    };
    xhr.onerror = () => reject(ApiError.offline());
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
