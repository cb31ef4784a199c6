// Server-Sent Events over fetch: EventSource can neither POST nor send an Authorization header.

export interface SseMessage {
  event: string;
  data: string;
}

/**
 * Incremental parser for the text/event-stream format: feed it chunks as they arrive (split
 * anywhere, even inside a line), get whole messages back. Comments (":") are skipped.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    let newline: number;
    while ((newline = this.nextLineEnd()) >= 0) {
      let line = this.buffer.slice(0, newline);
      // CRLF: the \r stays on the line, the \n ends it.
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.buffer = this.buffer.slice(newline + 1);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  /** What a stream that ends without a final blank line still holds. */
  flush(): SseMessage[] {
    const rest = this.buffer ? this.feed('\n') : [];
    const last = this.line('');
    return last ? [...rest, last] : rest;
  }

  private nextLineEnd(): number {
    return this.buffer.indexOf('\n');
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      if (this.data.length === 0 && !this.event) return null;
      const message = { event: this.event || 'message', data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    return null;
  }
}

/** Every message of a streaming response body, as it arrives. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.feed(decoder.decode());
    yield* parser.flush();
  } finally {
    // A consumer that stops early closes the connection; the server sees the client leave.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** Parsed JSON events; a message whose data is not JSON is passed on as a string. */
export async function* readJsonEvents<T = unknown>(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: T }> {
  for await (const message of readSse(body)) {
    let data: unknown = message.data;
    try {
      data = JSON.parse(message.data);
    } catch {
      // keep the raw text
    }
    yield { event: message.event, data: data as T };
  }
}
