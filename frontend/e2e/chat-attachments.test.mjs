// Files attached in one chat, end to end: a PDF dropped onto a new chat (the drop overlay, the
// chip with its progress and result), a question about it answered by SmolLM2 with the PDF
// as a source, the source opened to its excerpt, and the chat's own library gone with the
// conversation. Assertions are on the retrieval side (file names, excerpt text), never on the
// model's wording.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Backend,
  EMBEDDING,
  PYTHON,
  SMOLLM,
  launch,
  markOnboarded,
  missing,
  shot,
  signIn,
  tempDir,
} from './harness.mjs';

const FACT = 'The Ellery lighthouse was rebuilt in 1893 after a winter storm destroyed its lantern.';

/** A PDF with a real text layer, made with fpdf2 as the backend's tests make theirs. */
function makePdf(file, pages) {
  const script = [
    'import json, sys',
    'from fpdf import FPDF',
    'pdf = FPDF()',
    'pdf.set_font("Helvetica", size=11)',
    'for text in json.loads(sys.argv[2]):',
    '    pdf.add_page()',
    '    pdf.multi_cell(0, 6, text)',
    'pdf.output(sys.argv[1])',
  ].join('\n');
  execFileSync(PYTHON, ['-c', script, file, JSON.stringify(pages)]);
  return readFileSync(file);
}

describe('files attached in a chat', { skip: missing([SMOLLM, EMBEDDING]) ?? false }, () => {
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

  test('drop a PDF on a new chat, ask about it, open the source, delete the chat', async () => {
    const { page, errors } = browser;
    const pdf = makePdf(path.join(tempDir('pdf'), 'lighthouse.pdf'), [
      'Harbour notes. The ferry leaves at nine and returns at six.',
      `Local history. ${FACT} The keeper's cottage now hosts a small museum.`,
    ]);

    await page.goto(`${backend.url}/#/chat`);
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await page.getByLabel('Model', { exact: true }).selectOption(SMOLLM);
    await page.getByRole('button', { name: 'Parameters' }).click();
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Max tokens').fill('48');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Attach files' }).waitFor();

    // Dragged over the conversation: the overlay says what a drop does.
    const drop = await page.evaluateHandle(
      (bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'lighthouse.pdf', { type: 'application/pdf' }));
        return data;
      },
      [...pdf],
    );
    await page.dispatchEvent('section.chat-view', 'dragenter', { dataTransfer: drop });
    await page.getByTestId('chat-drop').getByText('Drop files to add them to this chat').waitFor();
    await shot(page, 'chat-attach-overlay', false);
    await page.dispatchEvent('section.chat-view', 'drop', { dataTransfer: drop });
    await page.getByTestId('chat-drop').waitFor({ state: 'detached' });

    // The new chat was made for it, and the file's chip follows its ingest to the end.
    await page.waitForURL(/#\/chat\/[0-9a-f]+$/);
    const conversationId = /#\/chat\/([0-9a-f]+)$/.exec(page.url())[1];
    const chip = page.getByTestId('attachment').filter({ hasText: 'lighthouse.pdf' });
    await chip.waitFor();
    await shot(page, 'chat-attach-chip-progress', false);
    await chip.getByText(/^Indexed: \d+ chunks?, 2 pages\.$/).waitFor({ timeout: 60_000 });
    await shot(page, 'chat-attach-chip-done', false);

    const files = await backend.api('GET', `/api/conversations/${conversationId}/attachments`);
    const own = files.library;
    assert.equal(own.conversation_id, conversationId);
    assert.deepEqual(
      files.documents.map((d) => [d.name, d.status]),
      [['lighthouse.pdf', 'indexed']],
    );
    // Not a library of the Documents page, nor one other chats are offered.
    assert.deepEqual(await backend.api('GET', '/api/libraries'), []);

    const box = page.getByLabel('Message', { exact: true });
    await box.fill('In which year was the Ellery lighthouse rebuilt?');
    await box.press('Enter');
    const answer = page.locator('article.message-assistant:not(.pending)').last();
    await answer.waitFor({ timeout: 120_000 });
    const sources = answer.locator('details.sources');
    await sources.getByText(/^Sources \(\d+\)$/).waitFor();
    assert.match(await sources.innerText(), /lighthouse\.pdf/);
    await shot(page, 'chat-attach-answer', false);

    // The excerpt shown is the stored chunk the first source names, word for word.
    const messages = await backend.api('GET', `/api/conversations/${conversationId}/messages`);
    const cited = messages.at(-1).meta.citations[0];
    assert.equal(cited.library_id, own.id);
    assert.equal(cited.file, 'lighthouse.pdf');
    const chunk = await backend.api('GET', `/api/libraries/${own.id}/chunks/${encodeURIComponent(cited.chunk_id)}`);
    await sources.getByRole('button').first().click();
    const dialog = page.getByRole('dialog', { name: 'lighthouse.pdf' });
    const excerpt = dialog.getByTestId('excerpt-text');
    await excerpt.waitFor();
    assert.equal(await excerpt.textContent(), chunk.text);
    assert.equal(cited.page, 2);
    assert.match(chunk.text, /1893/);
    await shot(page, 'chat-attach-excerpt', false);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // The conversation deleted (what the sidebar's delete sends once its undo window is over):
    // its library, documents and vectors go with it.
    await backend.api('DELETE', `/api/conversations/${conversationId}`);
    const gone = await fetch(`${backend.url}/api/libraries/${own.id}`, {
      headers: { Authorization: `Bearer ${backend.token}` },
    });
    assert.equal(gone.status, 404);
    assert.deepEqual(await backend.api('GET', '/api/libraries?owned=true'), []);

    assert.deepEqual(errors, []);
  });
});
