'use strict';
// The pure pieces of docs/PROTOCOL.md on the shell side: the listening line, exits, reasons.
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { classifyExit, describeExit, describeTimeout } = require('../../electron/supervisor/exit');
const { LineRing } = require('../../electron/supervisor/line-ring');
const { parseListeningLine } = require('../../electron/supervisor/listening');

const LINES = [
  ['{"event": "listening", "port": 51234}', 51234],
  ['{"event":"listening","port":1}', 1],
  ['  {"event": "listening", "port": 65535}\r', 65535],
  ['{"port": 8000, "event": "listening", "host": "127.0.0.1"}', 8000],
  ['{"event": "listening", "port": 0}', null],
  ['{"event": "listening", "port": 65536}', null],
  ['{"event": "listening", "port": -1}', null],
  ['{"event": "listening", "port": 80.5}', null],
  ['{"event": "listening", "port": "8000"}', null],
  ['{"event": "listening"}', null],
  ['{"event": "started", "port": 8000}', null],
  ['{"event": "listening", "port": 8000', null],
  ['["listening", 8000]', null],
  ['null', null],
  ['INFO:     Uvicorn running on http://127.0.0.1:8000', null],
  ['', null],
];

for (const [line, port] of LINES) {
  test(`listening line ${JSON.stringify(line)} -> ${port}`, () => {
    assert.equal(parseListeningLine(line), port);
  });
}

// [code, signal, class, HEARTH_PREVIOUS_EXIT wording]
const EXITS = [
  [0, null, 'clean', 'exit code 0'],
  [75, null, 'restart-requested', 'exit code 75'],
  [1, null, 'crash', 'exit code 1'],
  [3221225477, null, 'crash', 'exit code 3221225477'],
  [null, 'SIGSEGV', 'crash', 'signal SIGSEGV'],
  [null, 'SIGKILL', 'crash', 'signal SIGKILL'],
  [null, 'SIGTERM', 'crash', 'signal SIGTERM'],
];

for (const [code, signal, kind, wording] of EXITS) {
  test(`exit ${code}/${signal} -> ${kind}, "${wording}"`, () => {
    assert.equal(classifyExit(code, signal), kind);
    assert.equal(describeExit(code, signal), wording);
  });
}

test('timeout reasons use the protocol wording', () => {
  assert.equal(describeTimeout('health', 60_000), 'health timeout after 60 s');
  assert.equal(describeTimeout('health', 1_500), 'health timeout after 1.5 s');
  assert.equal(describeTimeout('port', 800), 'no port line after 0.8 s');
  assert.equal(describeTimeout('port', 250), 'no port line after 0.25 s');
});

test('the stderr ring keeps the last 50 lines and cuts very long ones', () => {
  const ring = new LineRing();
  for (let i = 0; i < 60; i += 1) ring.push(`line ${i}`);
  assert.equal(ring.lines().length, 50);
  assert.equal(ring.lines()[0], 'line 10');
  assert.equal(ring.lines().at(-1), 'line 59');
  ring.push('x'.repeat(10_000));
  assert.equal(ring.lines().at(-1).length, 4_001);
  ring.lines().push('not stored');
  assert.equal(ring.lines().length, 50);
});
