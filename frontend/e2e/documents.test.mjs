// Documents end to end: libraries, uploads with their results, a re-index, removing, deleting;
// and, without an embedding model, the page that says so and offers one from the catalogue.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Backend, EMBEDDING, launch, markOnboarded, missing, shot, signIn, tempDir } from './harness.mjs';

const NOTES = `# The moon

The moon is made of rock and dust. It has no air, so its sky is black even by day.

## Tides

The moon's pull raises the tides of the oceans, twice a day.
`;

describe('documents with an embedding model', { skip: missing([EMBEDDING]) ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await new Backend({ models: [EMBEDDING] }).start();
    browser = await launch();
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('create a library, add files (one bad), re-index, rename, remove one, delete it', async () => {
    const { page, errors } = browser;
    const files = tempDir('docs');
    const notes = path.join(files, 'moon notes.md');
    const scan = path.join(files, 'scan.pdf');
    writeFileSync(notes, NOTES);
    writeFileSync(scan, 'this is not a PDF at all');

    await page.goto(`${backend.url}/#/documents`);
    await page.getByRole('link', { name: 'Documents' }).and(page.locator('[aria-current="page"]')).waitFor();
    assert.match(await page.getByTestId('embedding-model').innerText(), /all-MiniLM-L6-v2-Q8_0/);
    await page.getByText('Create a library to add your first documents').waitFor();

    await page.getByLabel('New library').fill('Research');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Research', level: 2 }).waitFor();
    const [library] = await backend.api('GET', '/api/libraries');
    await page.waitForFunction((id) => location.hash === `#/documents/${id}`, library.id);

    await page.getByLabel('Documents to add').setInputFiles([notes, scan]);
    const good = page.getByTestId('document-row').filter({ hasText: 'moon notes.md' });
    const bad = page.getByTestId('document-row').filter({ hasText: 'scan.pdf' });
    await good.getByText('Indexed', { exact: true }).waitFor({ timeout: 60_000 });
    await bad.getByText('This is not a PDF file (no %PDF header).').waitFor({ timeout: 60_000 });
    const chunks = Number((await good.locator('td').nth(2).innerText()).trim());
    assert.ok(chunks >= 1, `chunk count ${chunks}`);
    // Activity: each file with its result in words, the bad one with its reason.
    const goodTask = page.getByTestId('task').filter({ hasText: 'moon notes.md' });
    await goodTask.getByText(`Indexed: ${chunks} chunk`).waitFor();
    const badTask = page.getByTestId('task').filter({ hasText: 'scan.pdf' });
    await badTask.getByText('Not indexed: This is not a PDF file (no %PDF header).').waitFor();
    assert.match(await page.getByTestId('library-facts').innerText(), /2 documents · 1 not indexed/);

    // A file dropped onto the page is added too.
    const drop = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(['The sun is a star.\n'], 'sun.txt', { type: 'text/plain' }));
      return data;
    });
    await page.dispatchEvent('section.documents', 'drop', { dataTransfer: drop });
    const sun = page.getByTestId('document-row').filter({ hasText: 'sun.txt' });
    await sun.getByText('Indexed', { exact: true }).waitFor({ timeout: 60_000 });

    // A folder: its documents are added, its other files named as skipped.
    const folder = path.join(files, 'papers');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'orbit.txt'), 'The moon orbits the earth in about 27 days.\n');
    writeFileSync(path.join(folder, 'photo.jpg'), 'not text');
    await page.getByLabel('Folder to add').setInputFiles(folder);
    await page.getByText(/^Skipped 1 file of other types \(photo\.jpg\)/).waitFor();
    const orbit = page.getByTestId('document-row').filter({ hasText: 'orbit.txt' });
    await orbit.getByText('Indexed', { exact: true }).waitFor({ timeout: 60_000 });

    // Nothing internal shows: no stored paths, no temporary upload names, no bare codes.
    const text = await page.locator('main').innerText();
    for (const internal of [backend.dataDir, '.upload-', 'unreadable', 'empty_file']) {
      assert.ok(!text.includes(internal), `${internal} shown on the page`);
    }
    await shot(page, 'documents-library');

    await page.getByRole('button', { name: 'Re-index' }).click();
    await page
      .getByTestId('task')
      .filter({ hasText: 'Re-index' })
      .getByText(/^Re-indexed: 3 indexed, 1 not indexed/)
      .waitFor({
        timeout: 60_000,
      });

    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Library name').fill('Moon research');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Moon research', level: 2 }).waitFor();
    await page.getByRole('link', { name: /Moon research/ }).waitFor();
    assert.equal((await backend.api('GET', `/api/libraries/${library.id}`)).name, 'Moon research');

    await page.getByRole('button', { name: 'Remove scan.pdf' }).click();
    await bad.waitFor({ state: 'detached' });
    const left = await backend.api('GET', `/api/libraries/${library.id}/documents`);
    assert.deepEqual(left.map((d) => d.name).sort(), ['moon notes.md', 'orbit.txt', 'sun.txt']);
    await page.getByRole('button', { name: 'Clear finished' }).click();
    await page.getByTestId('task').first().waitFor({ state: 'detached' });
    await shot(page, 'documents-renamed');

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the library Moon research?' });
    await dialog.getByText('Your own files elsewhere on this computer are not touched.').waitFor();
    await dialog.getByRole('button', { name: 'Delete library' }).click();
    await page.getByText('Create a library to add your first documents').waitFor();
    assert.deepEqual(await backend.api('GET', '/api/libraries'), []);
    assert.deepEqual(errors, []);
  });
});

describe('documents without an embedding model', { skip: missing([]) ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await new Backend({ models: [] }).start();
    browser = await launch();
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('says so in words and offers the catalogue embedding model', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/documents`);
    const offer = page.getByTestId('no-embedding');
    await offer.getByRole('heading', { name: 'No embedding model installed' }).waitFor();
    const { models } = await backend.api('GET', '/api/models/catalogue');
    const embedding = models.find((m) => m.kind === 'embedding');
    const item = offer.getByTestId('catalogue-item').filter({ hasText: embedding.name });
    await item.getByRole('button', { name: 'Download' }).waitFor();
    assert.match(await item.innerText(), embedding.size ? /[KMG]iB/ : /size unknown/);

    // A library can be made, but adding files waits for the model.
    await page.getByLabel('New library').fill('Later');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Later', level: 2 }).waitFor();
    await page.getByText('Install an embedding model (above) to add documents.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add files…' }).isDisabled(), true);
    await shot(page, 'documents-no-embedding');
    assert.deepEqual(errors, []);
  });
});
