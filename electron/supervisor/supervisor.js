// @ts-check
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const readline = require('node:readline');

const { classifyExit, describeExit, describeTimeout } = require('./exit');
const { waitHealthy } = require('./health');
const { LineRing } = require('./line-ring');
const { parseListeningLine } = require('./listening');
const { BackendLog } = require('./backend-log');
const { askToStop, killTree } = require('./process-tree');
const { DEFAULT_BUDGET, decideRestart } = require('./restart-budget');

/**
 * @typedef {import('./command').BackendCommand} BackendCommand
 * @typedef {import('./restart-budget').RestartBudget} RestartBudget
 *
 * @typedef {object} Timeouts
 * @property {number} portMs spawn -> listening line
 * @property {number} healthMs listening line -> /health 200
 * @property {number} firstStartPortMs portMs for the first start and after a restart request (new DLLs, antivirus)
 * @property {number} firstStartHealthMs healthMs for the same starts
 * @property {number} stopMs graceful stop -> tree kill
 * @property {number} pollIntervalMs between /health requests
 * @property {number} requestTimeoutMs one /health request
 * @property {number} closeGraceMs after an exit, how long to wait for the last stderr lines
 *
 * @typedef {object} SupervisorOptions
 * @property {BackendCommand} command
 * @property {Record<string, string>} [env] added to the inherited environment
 * @property {Partial<Timeouts>} [timeouts]
 * @property {Partial<RestartBudget>} [budget]
 * @property {number} [stderrLines] size of the stderr ring (50)
 * @property {string | null} [logFile] append the backend's output here
 * @property {NodeJS.Platform} [platform]
 * @property {() => number} [now]
 *
 * @typedef {'idle' | 'starting' | 'ready' | 'restarting' | 'crashed' | 'failed' | 'stopping' | 'stopped'} SupervisorState
 *
 * @typedef {object} BackendInfo
 * @property {string} url http://127.0.0.1:<port>/
 * @property {number} port
 * @property {string} token
 * @property {unknown} health body of the first 200 from /health
 */

/** @type {Readonly<Timeouts>} */
const DEFAULT_TIMEOUTS = Object.freeze({
  portMs: 60_000,
  healthMs: 60_000,
  firstStartPortMs: 180_000,
  firstStartHealthMs: 180_000,
  stopMs: 10_000,
  pollIntervalMs: 250,
  requestTimeoutMs: 2_000,
  closeGraceMs: 500,
});

/**
 * One backend process from spawn to exit.
 *
 * @typedef {object} Run
 * @property {import('node:child_process').ChildProcess | null} child
 * @property {number | undefined} pid
 * @property {string} token
 * @property {'port' | 'health' | 'ready' | 'exited'} phase
 * @property {string | null} failure set when the shell killed it for being late, or it could not start
 * @property {null | 'restart' | 'stop'} intent set when the shell ends it on purpose
 * @property {NodeJS.Timeout | undefined} timer start timeout
 * @property {NodeJS.Timeout | undefined} killTimer graceful stop -> tree kill
 * @property {AbortController} abort ends the /health poll
 * @property {Promise<void>} closed stdio closed
 * @property {Promise<void>} done exit handled
 * @property {() => void} resolveDone
 */

/**
 * Keeps the Python backend running as docs/PROTOCOL.md describes. Plain Node, no Electron.
 *
 * Events: 'state' with {state, ...details} for every change, and the same object under the
 * state's own name: 'starting' {spawn, pid, previousExit, forceCpu}, 'ready' {url, port, token, health},
 * 'restarting' {reason}, 'crashed' {reason, attempt, delayMs}, 'failed' {reason, lastExit, stderrTail},
 * 'stopping', 'stopped' {exit}.
 */
class Supervisor extends EventEmitter {
  /** @param {SupervisorOptions} options */
  constructor(options) {
    super();
    this.command = options.command;
    this.extraEnv = options.env ?? {};
    /** @type {Timeouts} */
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    /** @type {RestartBudget} */
    this.budget = { ...DEFAULT_BUDGET, ...options.budget };
    this.platform = options.platform ?? process.platform;
    this.now = options.now ?? Date.now;
    this.stderr = new LineRing(options.stderrLines ?? 50);
    this.log = new BackendLog(options.logFile ?? null);
    /** @type {SupervisorState} */
    this.state = 'idle';
    /** @type {BackendInfo | null} */
    this.backend = null;
    /** @type {Run | null} */
    this.current = null;
    /** @type {number[]} times of crash respawns, for the restart budget */
    this.history = [];
    /** @type {string | null} what happened to the previous process, for HEARTH_PREVIOUS_EXIT */
    this.lastExit = null;
    /** Set by useCpuRuntime() until a boot is healthy, so crash respawns keep forcing CPU. */
    this.forceCpu = false;
    /** Generous timeouts for the next start: first start and after a restart request. */
    this.generous = true;
    this.spawnCount = 0;
    /** @type {NodeJS.Timeout | null} */
    this.respawnTimer = null;
    /** @type {Promise<void> | null} */
    this.stopping = null;
  }

  /** Start the backend; progress arrives as events. */
  start() {
    if (this.state !== 'idle') throw new Error(`supervisor already ${this.state}`);
    this.#launch();
    return this;
  }

  /** Respawn now (from any live state); a person asked, so the crash budget starts over. */
  restart() {
    if (this.stopping) return;
    this.history = [];
    this.#clearRespawn();
    this.#setState('restarting', { reason: this.forceCpu ? 'switching to the CPU runtime' : 'restart requested' });
    const run = this.current;
    if (run) {
      if (run.intent === null) {
        run.intent = 'restart';
        this.#terminate(run);
      }
      return;
    }
    this.#launch();
  }

  /** Respawn with HEARTH_FORCE_CPU_RUNTIME=1 (kept on crash respawns until a boot is healthy). */
  useCpuRuntime() {
    if (this.stopping) return;
    this.forceCpu = true;
    this.restart();
  }

  /** The last stderr lines of the backend, oldest first. */
  stderrTail() {
    return this.stderr.lines();
  }

  /**
   * Stop gracefully, then kill the whole tree after timeouts.stopMs. Resolves once it is gone.
   *
   * @returns {Promise<void>}
   */
  stop() {
    if (this.stopping) return this.stopping;
    this.#clearRespawn();
    const run = this.current;
    if (!run) {
      this.#setState('stopped', {});
      this.stopping = this.log.close();
      return this.stopping;
    }
    run.intent = 'stop';
    this.#setState('stopping', {});
    this.#terminate(run);
    this.stopping = run.done.then(() => this.log.close());
    return this.stopping;
  }

  #launch() {
    this.respawnTimer = null;
    const { command, args, cwd } = this.command;
    const previousExit = this.lastExit;
    const forceCpu = this.forceCpu;
    const generous = this.generous;
    this.generous = false;
    this.spawnCount += 1;

    const token = crypto.randomBytes(32).toString('hex');
    /** @type {NodeJS.ProcessEnv} */
    // HEARTH_SUPERVISED: we respawn it ourselves, so `serve` must not start its own launcher.
    const env = { ...process.env, ...this.extraEnv, HEARTH_TOKEN: token, HEARTH_PORT: '0', HEARTH_SUPERVISED: '1' };
    env.PYTHONUNBUFFERED ??= '1';
    delete env.HEARTH_PREVIOUS_EXIT;
    delete env.HEARTH_FORCE_CPU_RUNTIME;
    if (previousExit) env.HEARTH_PREVIOUS_EXIT = previousExit;
    if (forceCpu) env.HEARTH_FORCE_CPU_RUNTIME = '1';

    /** @type {() => void} */
    let resolveDone = () => {};
    /** @type {Run} */
    const run = {
      child: null,
      pid: undefined,
      token,
      phase: 'port',
      failure: null,
      intent: null,
      timer: undefined,
      killTimer: undefined,
      abort: new AbortController(),
      closed: Promise.resolve(),
      done: new Promise((resolve) => {
        resolveDone = resolve;
      }),
      resolveDone: () => resolveDone(),
    };
    this.current = run;

    try {
      // The token travels in env only: argv is readable by every local user (ps, /proc).
      run.child = spawn(command, args, {
        cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: this.platform !== 'win32',
        windowsHide: true,
      });
    } catch (error) {
      run.failure = `cannot start ${command}: ${/** @type {Error} */ (error).message}`;
      this.#setState('starting', { spawn: this.spawnCount, pid: undefined, previousExit, forceCpu });
      setImmediate(() => this.#finish(run, null, null));
      return;
    }
    const child = run.child;
    run.pid = child.pid;
    run.closed = new Promise((resolve) => child.once('close', () => resolve()));
    child.once('exit', (code, signal) => this.#finish(run, code, signal));
    child.on('error', (error) => {
      if (child.pid !== undefined) return; // a failed kill(); the exit event still follows
      run.failure = `cannot start ${command}: ${error.message}`;
      this.#finish(run, null, null);
    });

    readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).on('line', (line) => {
      this.log.write('stdout', line);
      this.#onStdoutLine(run, line, generous);
    });
    readline.createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stderr) }).on('line', (line) => {
      this.log.write('stderr', line);
      this.stderr.push(line);
    });

    const portMs = generous ? this.timeouts.firstStartPortMs : this.timeouts.portMs;
    run.timer = setTimeout(() => this.#timeOut(run, describeTimeout('port', portMs)), portMs);
    this.#setState('starting', { spawn: this.spawnCount, pid: run.pid, previousExit, forceCpu });
  }

  /**
   * @param {Run} run
   * @param {string} line
   * @param {boolean} generous
   */
  #onStdoutLine(run, line, generous) {
    if (run.phase !== 'port' || run.intent !== null) return;
    const port = parseListeningLine(line);
    if (port === null) return;
    run.phase = 'health';
    clearTimeout(run.timer);
    const healthMs = generous ? this.timeouts.firstStartHealthMs : this.timeouts.healthMs;
    run.timer = setTimeout(() => this.#timeOut(run, describeTimeout('health', healthMs)), healthMs);
    waitHealthy(port, {
      signal: run.abort.signal,
      intervalMs: this.timeouts.pollIntervalMs,
      requestTimeoutMs: this.timeouts.requestTimeoutMs,
    }).then((answer) => {
      if (answer === null || run.phase !== 'health' || run.intent !== null || run.failure !== null) return;
      clearTimeout(run.timer);
      run.phase = 'ready';
      this.lastExit = null;
      this.forceCpu = false;
      this.backend = { url: `http://127.0.0.1:${port}/`, port, token: run.token, health: answer.body };
      this.#setState('ready', { ...this.backend });
    });
  }

  /**
   * The start ran out of time: kill the tree; the exit then counts as a crash with this reason.
   *
   * @param {Run} run
   * @param {string} reason
   */
  #timeOut(run, reason) {
    if (run.phase === 'exited' || run.intent !== null || run.pid === undefined) return;
    run.failure = reason;
    run.abort.abort();
    this.log.write('shell', `${reason}: killing the backend`);
    killTree(run.pid, this.platform);
  }

  /** @param {Run} run */
  #terminate(run) {
    clearTimeout(run.timer);
    run.abort.abort();
    // Already asked (a restart turned into a stop): keep the first deadline.
    if (run.phase === 'exited' || run.pid === undefined || run.killTimer !== undefined) return;
    const pid = run.pid;
    askToStop(pid, this.platform);
    run.killTimer = setTimeout(() => {
      this.log.write('shell', `no exit ${this.timeouts.stopMs} ms after the stop request: killing the process tree`);
      killTree(pid, this.platform);
    }, this.timeouts.stopMs);
  }

  /**
   * @param {Run} run
   * @param {number | null} code
   * @param {NodeJS.Signals | null} signal
   */
  async #finish(run, code, signal) {
    if (run.phase === 'exited') return;
    run.phase = 'exited';
    clearTimeout(run.timer);
    clearTimeout(run.killTimer);
    run.abort.abort();
    // Grandchildren the backend left behind would keep the port, the GPU and our stdio pipes.
    // POSIX only: the group id stays reserved while members live; a Windows pid can be reused at once.
    if (run.pid !== undefined && this.platform !== 'win32') killTree(run.pid, this.platform);
    let grace;
    await Promise.race([
      run.closed,
      new Promise((resolve) => {
        grace = setTimeout(resolve, this.timeouts.closeGraceMs);
      }),
    ]);
    clearTimeout(grace);
    const exit = run.failure ?? describeExit(code, signal);
    this.log.write('shell', `backend (pid ${run.pid ?? '-'}) ended: ${exit}`);
    if (this.current === run) {
      this.current = null;
      this.backend = null;
      this.#afterExit(run, code, signal, exit);
    }
    run.resolveDone();
  }

  /**
   * @param {Run} run
   * @param {number | null} code
   * @param {NodeJS.Signals | null} signal
   * @param {string} exit
   */
  #afterExit(run, code, signal, exit) {
    if (run.intent === 'stop') {
      this.#setState('stopped', { exit });
      return;
    }
    if (run.intent === 'restart') {
      this.#launch();
      return;
    }
    const outcome = run.failure ? 'crash' : classifyExit(code, signal);
    if (outcome === 'restart-requested') {
      this.lastExit = null;
      this.generous = true;
      this.#setState('restarting', { reason: 'the backend asked for a restart (exit code 75)' });
      this.#launch();
      return;
    }
    if (outcome === 'clean') {
      // docs/PROTOCOL.md: 0 is "a clean shutdown that was asked for"; nobody asked, so do not respawn.
      this.lastExit = null;
      this.#setState('failed', {
        reason: 'the backend exited (exit code 0) without being asked to',
        lastExit: exit,
        stderrTail: this.stderrTail(),
      });
      return;
    }
    this.lastExit = exit;
    const decision = decideRestart(this.history, this.now(), this.budget);
    this.history = decision.history;
    if (decision.action === 'give-up') {
      this.#setState('failed', { reason: `${exit}; ${decision.reason}`, lastExit: exit, stderrTail: this.stderrTail() });
      return;
    }
    this.#setState('crashed', { reason: exit, attempt: decision.attempt, delayMs: decision.delayMs });
    this.respawnTimer = setTimeout(() => this.#launch(), decision.delayMs);
  }

  #clearRespawn() {
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    this.respawnTimer = null;
  }

  /**
   * @param {SupervisorState} state
   * @param {Record<string, unknown>} details
   */
  #setState(state, details) {
    this.state = state;
    const event = { state, ...details };
    const summary = 'reason' in details ? `${state}: ${details.reason}` : state;
    this.log.write('shell', summary);
    this.emit('state', event);
    this.emit(state, event);
  }
}

module.exports = { Supervisor, DEFAULT_TIMEOUTS };
