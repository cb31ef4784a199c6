// Settings, Models and Monitor end to end, with a fake nvidia-smi (an RTX 3060) first on PATH.

import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Backend,
  SCENARIOS,
  SMOLLM,
  STORIES,
  fakeSmiBin,
  launch,
  markOnboarded,
  missing,
  modelsSource,
  shot,
  signIn,
  tempDir,
} from './harness.mjs';

const skip = missing([SMOLLM, STORIES]);

describe('screens with an RTX 3060', { skip: skip ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    const bin = fakeSmiBin();
    backend = await new Backend({
      models: [SMOLLM],
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_NVIDIA_SMI_SCENARIOS: SCENARIOS,
        FAKE_NVIDIA_SMI_SCENARIO: 'rtx3060-535',
      },
    }).start();
    browser = await launch();
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('Settings shows the GPU, the runtime, and why the upgrade is not offered', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/settings`);
    const card = page.getByTestId('gpu-card');
    await card.waitFor();
    const facts = await card.innerText();
    for (const expected of ['NVIDIA GeForce RTX 3060', '12.0 GiB', '535.183.01', '12.2', '8.6']) {
      assert.ok(facts.includes(expected), `${expected} not in ${facts}`);
    }
    assert.match(await page.getByTestId('runtime-id').innerText(), /^The built-in CPU runtime \(cpu-bundled\)/);
    // The CPU code llama.cpp chose for this machine's processor, as the backend reports it.
    const { runtime } = await backend.api('GET', '/api/capabilities');
    assert.ok(runtime.cpu_backend.cpu_label, JSON.stringify(runtime.cpu_backend));
    assert.ok((await page.getByTestId('cpu-backend').innerText()).startsWith(runtime.cpu_backend.cpu_label));
    assert.match(await page.getByTestId('recommendation-reason').innerText(), /is not pinned yet/);
    assert.equal(await page.getByRole('button', { name: 'Upgrade to GPU' }).count(), 0);
    assert.match(await page.getByTestId('cpu-card').innerText(), /AVX2/);

    await page.getByRole('button', { name: 'Re-detect hardware' }).click();
    await page.getByText('Hardware detected again in').waitFor();

    await page.getByLabel('Context size in tokens').selectOption('2048');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved/).waitFor();
    const prefs = await backend.api('GET', '/api/preferences');
    assert.equal(prefs.preferences.n_ctx, 2048);
    // The CPU runtime cannot offload: no slider, no "0 B of VRAM", one sentence instead.
    assert.match(await page.getByTestId('gpu-layers-cpu-only').innerText(), /None: the active runtime runs models/);
    // The estimate is asked again after the save: the help then says the new context.
    await page
      .getByTestId('context-help')
      .getByText(/SmolLM2 135M Instruct \(Q4_1\) was trained for 8,192 tokens and uses 2,048 now/)
      .waitFor();
    await shot(page, 'screen-settings');

    await page.getByLabel('Dark').check();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot(page, 'screen-settings-dark');
    await page.reload();
    await page.getByTestId('gpu-card').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByLabel('Light').check();
    assert.deepEqual(errors, []);
  });

  test('Models lists size, quantization and context; imports a GGUF with progress; sets the default', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/models`);
    const row = page.getByTestId('model-row').filter({ hasText: 'SmolLM2-135M-Instruct' });
    await row.waitFor();
    const cells = await row.innerText();
    assert.match(cells, /Q4_1/);
    assert.match(cells, /MiB/);
    assert.match(cells, /8,192|2,048/);

    // SmolLM2 is the default before anyone chose one: the model a new chat starts with.
    await row.getByText('default', { exact: true }).waitFor();
    // A chat model imported under a name of its own can be made the default.
    const file = path.join(tempDir('import'), 'my-chat.gguf');
    copyFileSync(path.join(modelsSource(), SMOLLM), file);
    await page.getByLabel('GGUF model file').setInputFiles(file);
    await page.getByText('Imported my-chat.').waitFor();
    const imported = page.getByTestId('model-row').filter({ hasText: 'my-chat' });
    await imported.waitFor();
    await imported.getByRole('button', { name: 'Make my-chat the default' }).click();
    await imported.getByText('default', { exact: true }).waitFor();
    const prefs = await backend.api('GET', '/api/preferences');
    assert.equal(prefs.preferences.default_model, 'my-chat.gguf');
    await page.getByTestId('catalogue-item').first().waitFor();
    await shot(page, 'screen-models');
    assert.deepEqual(errors, []);
  });

  test('web mode: no token, a spent link, then the printed token pasted by hand', async () => {
    const other = await launch();
    try {
      const { page, errors } = other;
      await page.goto(`${backend.url}/`);
      await page.getByRole('heading', { name: 'Sign in to Hearth' }).waitFor();
      // The first browser used the printed link already: it works once.
      await page.goto(backend.link);
      await page.getByText('This sign-in link was already used or has expired.', { exact: false }).waitFor();
      assert.ok(!page.url().includes('/auth/'), page.url());
      await shot(page, 'screen-signin', false);
      await page.getByLabel('Or paste the token printed for this launch').fill(backend.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      // In. Onboarding is done for this install (the backend keeps it, not each browser), so a
      // second browser opens the chat, not the welcome steps.
      await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
      assert.equal(await page.locator('.welcome-page').count(), 0);
      // Refusing the spent code is the one expected error: Chromium logs the 401 response.
      assert.deepEqual(errors, [
        'console: Failed to load resource: the server responded with a status of 401 (Unauthorized)',
      ]);
    } finally {
      await other.close();
    }
  });

  test('Monitor charts CPU and RAM live, and says why there are no GPU series', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/monitor`);
    await page.getByTestId('monitor-status').getByText('Live').waitFor();
    await page.getByRole('img', { name: /^CPU: all cores \d+%/ }).waitFor();
    await page.getByRole('img', { name: /^Memory: used/ }).waitFor();
    const absent = await page.getByTestId('gpu-absent').innerText();
    assert.match(absent, /No GPU series: NVML/);
    // A second of samples later the line has more points.
    const points = () => page.locator('.chart-svg polyline').first().getAttribute('points');
    const first = (await points()).split(' ').length;
    await page.waitForFunction(
      (n) => document.querySelector('.chart-svg polyline')?.getAttribute('points').split(' ').length > n,
      first,
      { timeout: 10_000 },
    );
    await shot(page, 'screen-monitor');
    assert.deepEqual(errors, []);
  });
});
