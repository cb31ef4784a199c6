// Settings → Local API server end to end: turn it on at a free port, make a key, call /v1/models
// with it from outside the browser (as another program would), revoke it, and the local-network
// question answered "Cancel". Screenshots: the panel on, the secret shown once, the LAN warning.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Backend, OUT, STORIES, launch, markOnboarded, missing, signIn } from './harness.mjs';

const skip = missing([STORIES]);

/** A port nothing listens on now: bind 0, read it, let it go. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A port another program holds until `close()`. */
function holdPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => server.close() }));
  });
}

async function elementShot(locator, name) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.png`);
  await locator.screenshot({ path: file });
  return file;
}

describe('the local API server from Settings', { skip: skip ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await new Backend({ models: [STORIES] }).start();
    browser = await launch({ width: 1280, height: 900 });
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: backend.url });
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('on at a chosen port; a key answers /v1/models there until it is revoked', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/settings`);
    const panel = page.locator('section[aria-labelledby="local-api-title"]');
    const toggle = panel.getByRole('switch', { name: 'Local API server' });
    await toggle.waitFor();
    assert.equal(await toggle.isChecked(), false);

    // A busy port: the backend's own sentence, and the setting kept to retry.
    const held = await holdPort();
    try {
      await panel.getByLabel('Port').fill(String(held.port));
      await panel.getByRole('button', { name: 'Apply' }).click();
      await toggle.click();
      await panel
        .getByTestId('api-server-status')
        .getByText(`Port ${held.port} is in use by another program; choose another.`)
        .waitFor();
    } finally {
      held.close();
    }

    const port = await freePort();
    await panel.getByLabel('Port').fill(String(port));
    await panel.getByRole('button', { name: 'Apply' }).click();
    const base = `http://127.0.0.1:${port}/v1`;
    await panel.getByTestId('api-server-status').getByText(`Listening on ${base} (this computer only)`).waitFor();
    assert.equal(await panel.getByTestId('api-base-url').innerText(), base);
    await panel.getByRole('button', { name: 'Copy the base URL' }).click();
    await panel.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), base);
    assert.match(await panel.getByTestId('api-usage').innerText(), new RegExp(`base_url="${base}"`));
    const server = await backend.api('GET', '/api/admin/api-server');
    assert.deepEqual([server.enabled, server.port, server.listening, server.lan], [true, port, true, false]);

    // Without a key the fixed port refuses.
    assert.equal((await fetch(`${base}/models`)).status, 401);

    await panel.getByLabel('Name').fill('Editor assistant');
    await panel.getByLabel('Role').selectOption('user');
    await panel.getByLabel('Requests per minute').fill('120');
    await panel.getByRole('button', { name: 'Make key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New key: Editor assistant' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /This key will not be shown again/);
    const secret = await dialog.getByTestId('new-key-secret').innerText();
    assert.match(secret, /^hk_\S{40,}$/);
    await elementShot(dialog, 'api-server-key-secret');
    await dialog.getByRole('button', { name: 'Done' }).click();

    const answer = await fetch(`${base}/models`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(answer.status, 200);
    const listed = await answer.json();
    assert.ok(
      listed.data.some((m) => m.id.startsWith('stories260K')),
      JSON.stringify(listed),
    );

    const row = panel.getByRole('row', { name: /Editor assistant/ });
    await panel.getByRole('button', { name: 'Refresh' }).click();
    const call = panel.getByTestId('api-audit').getByRole('listitem').first();
    await call.getByText('GET /v1/models').waitFor();
    assert.match(await call.innerText(), /Editor assistant/);
    assert.match(await call.innerText(), /200/);
    await row.getByText('just now').waitFor(); // the keys' "last used" is read again too
    assert.match(await row.innerText(), /120 requests\/min/);
    await elementShot(panel, 'api-server-panel-on');

    await row.getByRole('button', { name: 'Revoke Editor assistant' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke Editor assistant?' });
    await confirm.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText(/^Revoked/).waitFor();
    const refused = await fetch(`${base}/models`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(refused.status, 401);
    const { keys } = await backend.api('GET', '/api/admin/keys');
    assert.ok(keys[0].revoked_at, JSON.stringify(keys));

    // The busy port's 409 is the one expected error: Chromium logs the response.
    assert.deepEqual(errors, [
      'console: Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
    errors.length = 0;
  });

  test('the local network is asked about first, and Cancel changes nothing', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/settings`);
    const panel = page.locator('section[aria-labelledby="local-api-title"]');
    const lan = panel.getByRole('checkbox', { name: 'Serve on the local network' });
    await lan.waitFor();
    const before = await backend.api('GET', '/api/admin/api-server');
    assert.equal(before.lan, false);

    await lan.click();
    const dialog = page.getByRole('dialog', { name: 'Serve on the local network?' });
    await dialog.waitFor();
    assert.match(
      await dialog.innerText(),
      /Every computer on your network can then use Hearth's models, conversations and documents with an API key\. Requests from other computers always need a key\./,
    );
    await elementShot(page.locator('.overlay'), 'api-server-lan-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await lan.isChecked(), false);
    assert.equal(await panel.getByTestId('api-lan-urls').count(), 0);
    assert.deepEqual(await backend.api('GET', '/api/admin/api-server'), before);
    assert.deepEqual(errors, []);
  });
});
