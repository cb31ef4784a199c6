import { SseParser, readSse } from './sse';

describe('SseParser', () => {
  it('parses events split at any byte', () => {
    const text = 'event: delta\ndata: {"content":"Pa"}\n\nevent: delta\ndata: {"content":"ris"}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const got = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
      expect(got).toEqual([
        { event: 'delta', data: '{"content":"Pa"}' },
        { event: 'delta', data: '{"content":"ris"}' },
      ]);
    }
  });

  it('handles CRLF, comments, multi-line data and the default event name', () => {
    const parser = new SseParser();
    const got = parser.feed(': queued at position 2\r\ndata: a\r\ndata: b\r\n\r\ndata:c\n\n');
    expect(got).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
  });

  it('flushes a last event without a blank line', () => {
    const parser = new SseParser();
    expect(parser.feed('event: done\ndata: {}')).toEqual([]);
    expect(parser.flush()).toEqual([{ event: 'done', data: '{}' }]);
  });
});

describe('readSse', () => {
  it('reads a stream whose chunks split a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('data: Paris 🗼\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 14));
        controller.enqueue(bytes.slice(14));
        controller.close();
      },
    });
    const got = [];
    for await (const message of readSse(body)) got.push(message);
    expect(got).toEqual([{ event: 'message', data: 'Paris 🗼' }]);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: 1\n\ndata: 2\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of readSse(body)) {
      expect(message.data).toBe('1');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
