'use strict';
// Shared by the supervisor tests: fixture backends run as real child processes.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Supervisor } = require('../../electron/supervisor');

const FIXTURES = path.join(__dirname, 'fixtures');

/** Short timeouts: every fixture is a tiny Node script on 127.0.0.1. */
const FAST = Object.freeze({
  portMs: 3_000,
  healthMs: 3_000,
  firstStartPortMs: 3_000,
  firstStartHealthMs: 3_000,
  stopMs: 1_000,
  pollIntervalMs: 50,
  requestTimeoutMs: 500,
  closeGraceMs: 200,
});

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-shell-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A supervisor running tests/electron/fixtures/<name> with node; stopped after the test.
 *
 * @param {import('node:test').TestContext} t
 * @param {string} name
 * @param {{args?: string[], env?: Record<string, string>, timeouts?: object, budget?: object}} [options]
 */
function fixtureSupervisor(t, name, options = {}) {
  const dir = tempDir(t);
  const log = path.join(dir, 'boots.jsonl');
  const supervisor = new Supervisor({
    command: { command: process.execPath, args: [path.join(FIXTURES, name), ...(options.args ?? [])], cwd: dir },
    env: { FIXTURE_LOG: log, FIXTURE_STATE: dir, HEARTH_DATA_DIR: path.join(dir, 'data'), ...options.env },
    timeouts: { ...FAST, ...options.timeouts },
    budget: { maxRestarts: 3, windowMs: 60_000, backoffMs: [50, 100, 150], ...options.budget },
  });
  const events = [];
  supervisor.on('state', (event) => events.push(event));
  t.after(() => supervisor.stop());
  return { supervisor, events, dir, data: path.join(dir, 'data'), boots: () => readJsonLines(log) };
}

function readJsonLines(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/**
 * Resolve with the next event of that name (or the first of several names); reject after ms.
 *
 * @param {import('node:events').EventEmitter} emitter
 * @param {string | string[]} names
 * @param {number} [ms]
 */
function next(emitter, names, ms = 10_000) {
  const list = Array.isArray(names) ? names : [names];
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      for (const name of list) emitter.off(name, onEvent);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no '${list.join("' or '")}' event within ${ms} ms`));
    }, ms);
    function onEvent(event) {
      done();
      resolve(event);
    }
    for (const name of list) emitter.on(name, onEvent);
  });
}

/** True while pid is a live process (a zombie counts as gone). */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code === 'ESRCH') return false;
    throw error;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {() => boolean} predicate */
async function eventually(predicate, ms = 3_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await sleep(25);
  }
  return predicate();
}

module.exports = { FAST, FIXTURES, eventually, fixtureSupervisor, isAlive, next, readJsonLines, sleep, tempDir };
