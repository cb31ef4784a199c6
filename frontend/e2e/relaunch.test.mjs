// Web mode across relaunches, and a backend that goes away: the UI's choices (onboarding done, the
// theme) come back from the data dir although each launch is a new port, so a new origin with an
// empty localStorage; the conversation list has date headings and search snippets; while the
// backend is gone the load strip greys out and the metrics stream backs off instead of retrying
// every second.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Backend, PYTHON, STORIES, launch, missing, shot, signIn, sleep, tempDir } from './harness.mjs';

const skip = missing([STORIES]);

/** One chat turn through the API (stories260K, a few tokens); resolves when the answer is saved. */
async function say(backend, id, content) {
  const response = await fetch(`${backend.url}/api/conversations/${id}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${backend.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content, model: STORIES, params: { max_tokens: 4, temperature: 0 } }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  await response.text();
}

/** Move conversations back in time while no backend has the file open. */
function age(dataDir, daysAgo) {
  const script = `
import sqlite3, sys, json, datetime
db = sqlite3.connect(sys.argv[1])
now = datetime.datetime.now(datetime.timezone.utc)
for cid, days in json.loads(sys.argv[2]).items():
    when = (now - datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    db.execute("UPDATE conversation SET updated_at = ? WHERE id = ?", (when, cid))
db.commit()
`;
  const done = spawnSync(PYTHON, ['-c', script, path.join(dataDir, 'hearth.sqlite3'), JSON.stringify(daysAgo)], {
    encoding: 'utf8',
  });
  assert.equal(done.status, 0, done.stderr);
}

describe('web mode across relaunches', { skip: skip ?? false }, () => {
  const dataDir = tempDir('relaunch-data');
  let backend;
  let browser;

  before(async () => {
    browser = await launch({ width: 1200, height: 760 });
    // Every screen the page ever draws, to prove the welcome steps never flash by.
    await browser.context.addInitScript(() => {
      window.__welcomeSeen = false;
      new MutationObserver(() => {
        if (document.querySelector('.welcome-page')) window.__welcomeSeen = true;
      }).observe(document, { childList: true, subtree: true });
    });
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('onboarding and the theme survive a relaunch on another port', async () => {
    const { page, errors } = browser;
    backend = await new Backend({ models: [STORIES], dataDir }).start();
    const firstPort = backend.port;
    await signIn(page, backend);
    await page.getByRole('heading', { name: 'Welcome to Hearth' }).waitFor();
    await page.getByRole('button', { name: 'Skip setup' }).click();
    await page.goto(`${backend.url}/#/settings`);
    await page.getByLabel('Dark').check();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    // The choice reaches the backend (the UI sends it a moment after the click).
    for (let i = 0; i < 50; i++) {
      const { preferences } = await backend.api('GET', '/api/preferences');
      if (preferences.theme === 'dark' && preferences.onboarded === true) break;
      await sleep(100);
    }
    const { preferences } = await backend.api('GET', '/api/preferences');
    assert.equal(preferences.theme, 'dark');
    assert.equal(preferences.onboarded, true);

    // Conversations to group and search, with one message each.
    const made = {};
    for (const [key, title, text] of [
      ['today', 'Sourdough timing', 'How long should the dough rest before the second proof in a cold kitchen?'],
      ['yesterday', 'Garden', 'Which tomatoes grow best on a windy balcony facing west?'],
      ['week', 'Trip to Kyoto', "Kyoto's temples are quieter in the early morning, before the buses come."],
      ['month', 'Budget', 'Rent is 40% of the budget and food_and_drink another fifth.'],
      ['old', 'Old notes', 'Notes from a long time ago about morning routines.'],
    ]) {
      const conv = await backend.api('POST', '/api/conversations', { title, model: STORIES });
      await say(backend, conv.id, text);
      made[key] = conv.id;
    }
    await backend.stop();
    age(dataDir, { [made.today]: 0, [made.yesterday]: 1, [made.week]: 4, [made.month]: 20, [made.old]: 75 });

    // Relaunch: same data dir, another port, so another origin and an empty localStorage there.
    const again = new Backend({ models: [STORIES], dataDir });
    backend = again;
    await again.start();
    assert.notEqual(again.port, firstPort);
    await page.evaluate(() => {
      window.__welcomeSeen = false;
    });
    errors.length = 0; // the first launch's page saw its backend go
    await signIn(page, again);
    const sidebar = page.getByRole('navigation', { name: 'Conversations' });
    await sidebar.getByText('Sourdough timing').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    assert.equal(await page.evaluate(() => window.__welcomeSeen), false, 'the welcome steps flashed by');
    assert.ok(!page.url().includes('welcome'), page.url());
    // This origin's localStorage now caches the backend's copy (theme-boot.js paints from it).
    assert.equal(await page.evaluate(() => localStorage.getItem('hearth.onboarded')), 'true');
    assert.equal(await page.evaluate(() => localStorage.getItem('hearth.theme')), 'dark');

    // Date headings, newest first.
    const headings = await sidebar.locator('.conv-group-label').allInnerTexts();
    assert.deepEqual(headings.slice(0, 4), ['Today', 'Yesterday', 'Previous 7 days', 'Previous 30 days']);
    assert.equal(headings.length, 5, JSON.stringify(headings));
    await shot(page, 'relaunch-conversation-groups', false);

    // A search shows the matching piece of the message, the match marked.
    await page.getByLabel('Search conversations').fill('morning');
    const snippet = sidebar.getByTestId('conv-snippet').first();
    await snippet.waitFor();
    assert.match(await snippet.innerText(), /early morning/);
    assert.deepEqual(await snippet.locator('mark').allInnerTexts(), ['morning']);
    assert.ok((await sidebar.locator('.conv-item').count()) >= 2);
    await shot(page, 'relaunch-search-snippet', false);

    // LIKE wildcards and FTS syntax are searched for as typed.
    await page.getByLabel('Search conversations').fill('40%');
    await sidebar.getByText('Budget', { exact: true }).waitFor();
    assert.deepEqual(await sidebar.getByTestId('conv-snippet').locator('mark').allInnerTexts(), ['40']);
    await page.getByLabel('Search conversations').fill('');
    await sidebar.getByText('Old notes').waitFor();
    assert.deepEqual(errors, []);
  });

  test('the parameter boxes sit on one line at one height', async () => {
    const { page } = browser;
    await page.goto(`${backend.url}/#/chat`);
    await page.getByRole('button', { name: /Parameters/ }).click();
    const panel = page.getByRole('region', { name: 'Parameters' });
    await panel.waitFor();
    const boxes = await panel.locator('input').evaluateAll((inputs) =>
      inputs.map((i) => {
        const r = i.getBoundingClientRect();
        return { top: Math.round(r.top), height: Math.round(r.height) };
      }),
    );
    assert.equal(boxes.length, 4);
    assert.equal(new Set(boxes.map((b) => b.height)).size, 1, JSON.stringify(boxes));
    assert.equal(new Set(boxes.map((b) => b.top)).size, 1, JSON.stringify(boxes));
    await shot(page, 'relaunch-params-panel', false);
  });

  test('a lost backend greys the load strip, backs off, and comes back', async (t) => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/chat`);
    const strip = page.getByTestId('load-strip');
    await strip.getByText(/^CPU \d+%$/).waitFor();
    const port = backend.port;
    const token = backend.token;
    await backend.stop();
    await page.locator('.load-strip.offline').waitFor({ timeout: 15_000 });
    assert.match(await strip.innerText(), /Not connected/);
    assert.doesNotMatch(await strip.innerText(), /CPU|RAM/);
    errors.length = 0;
    await sleep(12_000);
    await shot(page, 'relaunch-load-strip-offline', false);
    // Retries at about 1, 2, 4 and 8 s: a handful of failed requests in 12 s, not one a second.
    const lost = errors.filter((e) => /ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
    t.diagnostic(`${lost.length} failed requests logged in 12 s without a backend`);
    assert.ok(lost.length <= 6, `${lost.length} console errors in 12 s:\n${errors.join('\n')}`);

    // The same port and token again (as a supervisor restart would): the strip comes back.
    const back = new Backend({ models: [STORIES], dataDir, env: { HEARTH_PORT: String(port) } });
    back.token = token;
    backend = back;
    await back.start();
    await strip.getByText(/^CPU \d+%$/).waitFor({ timeout: 40_000 });
    assert.equal(await page.locator('.load-strip.offline').count(), 0);
  });
});
