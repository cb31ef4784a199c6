// "Upgrade to GPU" end to end, against the real upgrade backend (hearth/api/admin.py): wheels
// served by a wheel index on 127.0.0.1 (tests/e2e/upgrade_fixtures.py), the backend's own
// launcher respawning the server, and the UI reconnecting by itself.
//   1. The button, for a fake RTX 4090 on driver 580 and a registry with a pinned CUDA 13 runtime:
//      consent, download progress, and a failure before any switch that names the missing
//      NVIDIA driver library (this machine has no driver).
//   2. "Install from file…" with a pack that works: restart, reconnect, measured speeds; then
//      "Revert to CPU runtime" through another restart.
//   3. A pack whose runtime crashes the server after the switch: two failed boots, the automatic
//      revert, and the reason shown.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import {
  Backend,
  PYTHON,
  ROOT,
  SCENARIOS,
  STORIES,
  fakeSmiBin,
  launch,
  markOnboarded,
  missing,
  shot,
  signIn,
  tempDir,
} from './harness.mjs';

const skip = missing([STORIES]);
const SLOW = 300_000;

/** Wheels, index, registries and packs, from the Python helper; the index lives as long as it. */
async function fixtures() {
  const child = spawn(PYTHON, ['-m', 'tests.e2e.upgrade_fixtures', tempDir('runtime')], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: `${ROOT}:${ROOT}/backend` },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`upgrade fixtures exited with ${code}`)));
  });
  return { ...JSON.parse(line), close: () => child.stdin.end() };
}

// While the backend restarts Chromium logs each request it could not make ("Failed to load
// resource: net::ERR_CONNECTION_REFUSED", or a stream cut as the old process exits). Those are
// the restart itself; any other console error, and every page error, still fails the test.
const RESTART_NOISE =
  /^console: Failed to load resource: net::ERR_(CONNECTION_REFUSED|INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|CONNECTION_RESET)$/;

function realErrors(errors) {
  return errors.filter((e) => !RESTART_NOISE.test(e));
}

async function openSettings(page, backend) {
  await signIn(page, backend);
  await markOnboarded(page);
  await page.goto(`${backend.url}/#/settings`);
  await page.getByTestId('runtime-card').waitFor();
}

describe('upgrade', { skip: skip ?? false, timeout: 20 * 60_000 }, () => {
  let fx;

  before(async () => {
    fx = await fixtures();
  });

  after(() => fx?.close());

  test(
    'Upgrade to GPU: consent, progress, and a failure that leaves Hearth on the CPU',
    { timeout: SLOW },
    async () => {
      const bin = fakeSmiBin();
      const backend = await new Backend({
        models: [STORIES],
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          FAKE_NVIDIA_SMI_SCENARIOS: SCENARIOS,
          FAKE_NVIDIA_SMI_SCENARIO: 'rtx4090-580',
          HEARTH_RUNTIME_REGISTRY: fx.registry_gpu,
          HEARTH_RUNTIME_PROBE_TIMEOUT: '120',
        },
      }).start();
      const { page, errors, close } = await launch();
      try {
        await openSettings(page, backend);
        await page.getByTestId('gpu-card').getByText('NVIDIA GeForce RTX 4090').waitFor();
        await page.getByRole('button', { name: 'Upgrade to GPU' }).click();
        const consent = page.getByRole('dialog', { name: 'Upgrade to GPU' });
        // The size of the wheel these fixtures built, as the UI's formatBytes writes it.
        const mib = `${(Number(fx.cuda_wheel_bytes) / 1024 / 1024).toFixed(1)} MiB`;
        assert.equal(await consent.getByTestId('consent-size').innerText(), mib);
        assert.equal(await consent.getByTestId('consent-hosts').innerText(), fx.index_host);
        await shot(page, 'upgrade-consent', false);
        await consent.getByRole('button', { name: 'Download and install' }).click();

        const running = page.getByRole('dialog', { name: 'Upgrading to GPU' });
        await running.waitFor();
        await shot(page, 'upgrade-progress', false);
        const result = page.getByRole('dialog', { name: 'The GPU upgrade did not complete' });
        await result.waitFor({ timeout: SLOW });
        const text = await result.getByTestId('upgrade-result').innerText();
        assert.match(text, /Reason: .+/);
        // The probe's own words: this machine has no NVIDIA driver for the CUDA runtime to use.
        assert.match(
          text,
          /libcuda\.so\.1 was not found, so the GPU cannot be used\. Install or repair the NVIDIA driver/,
        );
        assert.match(text, /still on the CPU runtime/);
        await shot(page, 'upgrade-failed-before-switch', false);
        await result.getByRole('button', { name: 'Close' }).click();
        assert.match(await page.getByTestId('runtime-id').innerText(), /cpu-bundled/);
        const { job } = await backend.api('GET', '/api/admin/upgrade-gpu');
        assert.equal(job.state, 'failed');
        assert.ok(text.includes(job.error.message), `${text} / ${job.error.message}`);
        assert.deepEqual(errors, []);
      } finally {
        await close();
        await backend.stop();
      }
    },
  );

  test(
    'Install from file: restart, reconnect, measured speeds; then revert to the CPU runtime',
    { timeout: SLOW * 2 },
    async () => {
      const backend = await new Backend({
        models: [STORIES],
        env: { HEARTH_RUNTIME_REGISTRY: fx.registry_cpu, HEARTH_RUNTIME_PROBE_TIMEOUT: '120' },
      }).start();
      const { page, errors, close } = await launch();
      try {
        await openSettings(page, backend);
        await page.getByLabel('Runtime pack file').setInputFiles(fx.pack_ok);
        const consent = page.getByRole('dialog', { name: 'Install a runtime pack' });
        assert.match(await consent.innerText(), /hearth-runtime-cpu-test\.zip/);
        await consent.getByRole('button', { name: 'Install' }).click();

        await page.getByRole('dialog', { name: 'Restarting…' }).waitFor({ timeout: SLOW });
        await shot(page, 'pack-restarting', false);
        const result = page.getByRole('dialog', { name: 'The new runtime is active' });
        await result.waitFor({ timeout: SLOW });
        const text = await result.innerText();
        assert.match(text, /CPU runtime\s+\d+(\.\d)? tokens\/s/);
        assert.match(text, /New runtime\s+\d+(\.\d)? tokens\/s/);
        await shot(page, 'pack-success', false);
        await result.getByRole('button', { name: 'Close' }).click();
        await page.getByTestId('runtime-id').getByText('cpu-test').waitFor();
        await shot(page, 'pack-runtime-active');

        await page.getByRole('button', { name: 'Revert to CPU runtime' }).click();
        await page
          .getByRole('dialog', { name: 'Revert to the CPU runtime?' })
          .getByRole('button', { name: 'Revert and restart' })
          .click();
        await page.getByText('Hearth restarted on the CPU runtime.').waitFor({ timeout: SLOW });
        await page.getByTestId('runtime-id').getByText('cpu-bundled').waitFor();
        assert.deepEqual(realErrors(errors), []);
      } finally {
        await close();
        await backend.stop();
      }
    },
  );

  test('a runtime that crashes after the switch is reverted, and the UI says why', { timeout: SLOW * 2 }, async () => {
    const backend = await new Backend({
      models: [STORIES],
      env: { HEARTH_RUNTIME_REGISTRY: fx.registry_cpu, HEARTH_RUNTIME_PROBE_TIMEOUT: '120' },
    }).start();
    const { page, errors, close } = await launch();
    try {
      await openSettings(page, backend);
      await page.getByLabel('Runtime pack file').setInputFiles(fx.pack_crash);
      await page
        .getByRole('dialog', { name: 'Install a runtime pack' })
        .getByRole('button', { name: 'Install' })
        .click();
      await page.getByRole('dialog', { name: 'Restarting…' }).waitFor({ timeout: SLOW });
      const result = page.getByRole('dialog', { name: 'The runtime was not installed' });
      await result.waitFor({ timeout: SLOW });
      const text = await result.getByTestId('upgrade-result').innerText();
      assert.match(text, /signal SIGSEGV/);
      assert.match(text, /went back to the CPU runtime/);
      await shot(page, 'pack-crash-reverted', false);
      await result.getByRole('button', { name: 'Close' }).click();
      await page.getByTestId('runtime-id').getByText('cpu-bundled').waitFor();
      await page
        .getByRole('note')
        .getByText(/went back to the CPU runtime/)
        .waitFor();
      await shot(page, 'pack-crash-settings');
      assert.deepEqual(realErrors(errors), []);
    } finally {
      await close();
      await backend.stop();
    }
  });
});
