// Documents in a chat end to end: a library made through the API, attached from the chat header
// of a new chat, an answer from SmolLM2 that lists its sources, a source opened to its excerpt,
// and the same source after its document was removed. Assertions are on the retrieval side
// (file names, excerpt text), never on the model's wording.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Backend, EMBEDDING, SMOLLM, launch, markOnboarded, missing, shot, signIn, sleep } from './harness.mjs';

const NOTES = `# The moon

The moon is made of rock and dust. It has no air, so its sky is black even by day.

## Tides

The moon's pull raises the tides of the oceans, twice a day.
`;

/** Upload a file into a library as the Documents page does (raw body), and wait until indexed. */
async function uploadAndIndex(backend, libraryId, filename, text) {
  const query = new URLSearchParams({ library_id: libraryId, filename });
  const response = await fetch(`${backend.url}/api/documents/upload?${query}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${backend.token}`, 'Content-Type': 'application/octet-stream' },
    body: text,
  });
  assert.equal(response.status, 202, await response.clone().text());
  const job = await response.json();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const now = await backend.api('GET', `/api/libraries/${libraryId}/jobs/${job.id}`);
    if (now.status === 'done') return now;
    assert.ok(['queued', 'running'].includes(now.status), JSON.stringify(now));
    await sleep(200);
  }
  throw new Error('the upload was not indexed within 60 s');
}

describe('chat with documents', { skip: missing([SMOLLM, EMBEDDING]) ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await new Backend({ models: [SMOLLM, EMBEDDING] }).start();
    browser = await launch();
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('attach a library from the header, see the sources, open an excerpt', async () => {
    const { page, errors } = browser;
    const library = await backend.api('POST', '/api/libraries', { name: 'Moon research' });
    const job = await uploadAndIndex(backend, library.id, 'moon notes.md', NOTES);
    assert.equal(job.results[0].status, 'indexed', JSON.stringify(job.results));

    await page.goto(`${backend.url}/#/chat`);
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await page.getByLabel('Model', { exact: true }).selectOption(SMOLLM);
    await page.getByRole('button', { name: 'Parameters' }).click();
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Max tokens').fill('48');
    await page.getByRole('button', { name: 'Close' }).click();

    // A new chat has no conversation yet: the ticked library is attached with the first message.
    const toggle = page.getByTestId('documents-toggle');
    assert.equal((await toggle.innerText()).trim(), 'Documents');
    await toggle.click();
    const panel = page.getByRole('region', { name: 'Documents' });
    await panel.getByLabel('Moon research').check();
    await panel.getByText('Attached when you send the first message.').waitFor();
    await page.getByText('Documents: Moon research').waitFor();
    await shot(page, 'chat-documents-attach', false);
    await panel.getByRole('button', { name: 'Close' }).click();

    const box = page.getByLabel('Message', { exact: true });
    await box.fill('What is the moon made of?');
    await box.press('Enter');
    const answer = page.locator('article.message-assistant:not(.pending)').last();
    await answer.waitFor({ timeout: 120_000 });
    const conversationId = /#\/chat\/([0-9a-f]+)$/.exec(page.url())?.[1];
    assert.ok(conversationId, page.url());
    const attached = await backend.api('GET', `/api/conversations/${conversationId}/libraries`);
    assert.deepEqual(
      attached.map((l) => l.name),
      ['Moon research'],
    );
    await page.getByText('Documents: Moon research').waitFor();

    const sources = answer.locator('details.sources');
    await sources.getByText(/^Sources \(\d+\)$/).waitFor();
    assert.match(await sources.innerText(), /moon notes\.md/);
    await shot(page, 'chat-documents-answer', false);

    // The excerpt shown is the stored chunk the first source names, word for word.
    const messages = await backend.api('GET', `/api/conversations/${conversationId}/messages`);
    const cited = messages.at(-1).meta.citations[0];
    assert.equal(cited.library_id, library.id);
    const chunk = await backend.api('GET', `/api/libraries/${library.id}/chunks/${encodeURIComponent(cited.chunk_id)}`);
    assert.match(chunk.text, /moon/i);
    await sources.getByRole('button').first().click();
    const dialog = page.getByRole('dialog', { name: 'moon notes.md' });
    const excerpt = dialog.getByTestId('excerpt-text');
    await excerpt.waitFor();
    assert.equal(await excerpt.textContent(), chunk.text);
    if (cited.heading) await dialog.getByText(cited.heading, { exact: true }).first().waitFor();
    await shot(page, 'chat-documents-excerpt', false);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // The document removed: the same source says so instead of showing stale text.
    await backend.api('DELETE', `/api/libraries/${library.id}/documents/${chunk.document_id}`);
    await sources.getByRole('button').first().click();
    await dialog
      .getByRole('alert')
      .getByText('This passage is no longer in the library: its document was removed or changed since this answer.')
      .waitFor();
    await shot(page, 'chat-documents-excerpt-gone', false);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Chromium logs the expected 404 of the removed chunk; nothing else may fail.
    const unexpected = errors.filter((e) => !/status of 404/.test(e));
    assert.deepEqual(unexpected, []);
    assert.ok(errors.length <= 1, JSON.stringify(errors));
  });
});
