// End-to-end harness: a real backend (`python -m hearth serve`, web mode) started per test with
// its own data dir, real models symlinked from HEARTH_TEST_MODELS, and Debian's Chromium driven
// by playwright-core. Screenshots land in frontend/test-results/e2e/.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FRONTEND = path.resolve(here, '..');
export const ROOT = path.resolve(FRONTEND, '..');
export const OUT = path.join(FRONTEND, 'test-results', 'e2e');
export const PYTHON = process.env.HEARTH_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FAKE_SMI = path.join(ROOT, 'tests', 'backend', 'hardware', 'fakes', 'nvidia-smi');
export const SCENARIOS = path.join(ROOT, 'tests', 'backend', 'hardware', 'fakes', 'scenarios');

export const STORIES = 'stories260K.gguf';
export const SMOLLM = 'SmolLM2-135M-Instruct.Q4_1.gguf';
export const EMBEDDING = 'all-MiniLM-L6-v2-Q8_0.gguf';

export function modelsSource() {
  return path.resolve(process.env.HEARTH_TEST_MODELS || path.join(ROOT, '..', 'shared', 'models'));
}

/** Why this test cannot run here (no Chromium, no model fixtures), or null. A missing venv or
 *  UI build is not a reason to skip: Backend.start() fails on those. */
export function missing(models = []) {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;
  for (const name of models) {
    if (!existsSync(path.join(modelsSource(), name))) {
      return `model fixture ${name} not found in ${modelsSource()} (set HEARTH_TEST_MODELS)`;
    }
  }
  return null;
}

const made = [];
// Temporary folders go when the test file ends; HEARTH_E2E_KEEP=1 keeps them (logs, data) to look at.
process.on('exit', () => {
  if (process.env.HEARTH_E2E_KEEP === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), `hearth-e2e-${prefix}-`));
  made.push(dir);
  return dir;
}

/** A folder holding a fake nvidia-smi, to put first on PATH. */
export function fakeSmiBin() {
  const bin = tempDir('smi');
  const target = path.join(bin, 'nvidia-smi');
  // The fake is a Python script; run it with the venv's interpreter without site (fast start).
  const source = `#!${PYTHON} -SE\n`;
  const body = readText(FAKE_SMI).split('\n').slice(1).join('\n');
  writeExecutable(target, source + body);
  return bin;
}

function readText(file) {
  return readFileSync(file, 'utf8');
}
function writeExecutable(file, text) {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

export class Backend {
  constructor({ models = [], env = {}, dataDir } = {}) {
    this.dataDir = dataDir ?? tempDir('data');
    this.modelsDir = tempDir('models');
    for (const name of models) symlinkSync(path.join(modelsSource(), name), path.join(this.modelsDir, name));
    this.token = randomBytes(24).toString('base64url');
    this.env = env;
    this.stderr = [];
    this.links = [];
    this.port = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The newest one-time sign-in link the backend printed. */
  get link() {
    return this.links[this.links.length - 1];
  }

  async start(timeoutMs = 90_000) {
    if (!existsSync(PYTHON)) throw new Error(`Python venv not found at ${PYTHON} (make setup)`);
    if (!existsSync(path.join(FRONTEND, 'dist', 'index.html'))) {
      throw new Error('frontend/dist is not built: run `npm run build` in frontend/ first');
    }
    this.proc = spawn(PYTHON, ['-m', 'hearth', 'serve'], {
      cwd: this.dataDir,
      env: {
        ...process.env,
        HEARTH_DATA_DIR: this.dataDir,
        HEARTH_MODELS_DIR: this.modelsDir,
        HEARTH_TOKEN: this.token,
        HEARTH_PORT: '0',
        PYTHONPATH: path.join(ROOT, 'backend'),
        PYTHONUNBUFFERED: '1',
        ...this.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      this.stderr.push(line);
      const found = /Open Hearth: (\S+)/.exec(line);
      if (found) this.links.push(found[1]);
    });
    const listening = new Promise((resolve, reject) => {
      createInterface({ input: this.proc.stdout }).on('line', (line) => {
        try {
          const event = JSON.parse(line);
          if (event.event === 'listening' && this.port === null) {
            this.port = event.port;
            resolve();
          }
        } catch {
          // other stdout lines are not ours
        }
      });
      this.proc.once('exit', (code) => reject(new Error(`backend exited (${code}):\n${this.stderr.join('\n')}`)));
    });
    await withTimeout(listening, timeoutMs, 'no listening line');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.health()) && this.link) return this;
      await sleep(100);
    }
    throw new Error(`backend never became healthy:\n${this.stderr.join('\n')}`);
  }

  async health() {
    try {
      return (await fetch(`${this.url}/health`)).ok;
    } catch {
      return false;
    }
  }

  async api(method, route, body) {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    try {
      process.kill(-this.proc.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.modelsDir, { recursive: true, force: true });
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Chromium with a fresh profile; every console error and page error is collected. */
export async function launch({ width = 1280, height = 820 } = {}) {
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A screenshot under test-results/e2e/<name>.png; full page when asked. */
export async function shot(page, name, fullPage = true) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.png`);
  if (!fullPage) {
    await page.screenshot({ path: file });
    return file;
  }
  // The app scrolls inside its panes (the window never does), so a full page means a window
  // as tall as the tallest pane's content, for the length of the screenshot.
  const viewport = page.viewportSize();
  const extra = await page.evaluate(() =>
    Math.max(
      0,
      ...[...document.querySelectorAll('.page, .messages, .conv-list')].map((el) => el.scrollHeight - el.clientHeight),
    ),
  );
  if (extra > 0) await page.setViewportSize({ width: viewport.width, height: viewport.height + extra });
  try {
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    if (extra > 0) await page.setViewportSize(viewport);
  }
  return file;
}

/** Open the one-time sign-in link, as a person would from the terminal. */
export async function signIn(page, backend) {
  await page.goto(backend.link);
  await page.waitForFunction(() => !location.hash.includes('/auth/') && sessionStorage.getItem('hearth.token'));
}

/** Skip onboarding by marking it done, for tests about other screens. The backend keeps the
 *  choice (web mode's localStorage is per port); the local copy is what the page reads first. */
export async function markOnboarded(page) {
  await page.evaluate(async () => {
    localStorage.setItem('hearth.onboarded', 'true');
    const response = await fetch('/api/preferences', {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${sessionStorage.getItem('hearth.token')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ onboarded: true }),
    });
    if (!response.ok) throw new Error(`marking onboarding done: HTTP ${response.status}`);
  });
}
