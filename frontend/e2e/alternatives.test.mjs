// Answer history end to end: regenerate keeps the old answer as "1/2", an edited question is a
// branch with its own answer, the choice is stored (it survives a reload) and is what the next
// turn follows. A tiny model's wording varies by CPU, so only structure and stored text are
// asserted: what is shown is what the API says is stored.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Backend, SMOLLM, launch, markOnboarded, missing, shot, signIn } from './harness.mjs';

/** Letters only: the rendered Markdown and the stored text then compare, whatever the lists
 *  and emphasis became on screen. */
const letters = (text) => text.toLowerCase().replace(/[^a-z]/g, '');

async function idle(page) {
  await page.waitForFunction(() => !document.querySelector('article[aria-busy="true"]'), null, { timeout: 90_000 });
}

async function path(backend, id) {
  return backend.api('GET', `/api/conversations/${id}/messages`);
}

/** The shown answer is the stored message `expected`: its id, its text and its place. */
async function showsAnswer(page, expected) {
  const answer = page.locator('article.message-assistant:not(.pending)').last();
  await page.waitForFunction(
    (id) => [...document.querySelectorAll('article.message-assistant:not(.pending)')].at(-1)?.dataset.messageId === id,
    String(expected.id),
    { timeout: 30_000 },
  );
  assert.equal(letters(await answer.locator('.message-body').innerText()), letters(expected.content));
  assert.equal(
    await answer.getByTestId('alternatives-count').innerText(),
    `${expected.alternative}/${expected.alternatives}`,
  );
}

describe('answer history', { skip: missing([SMOLLM]) ?? false }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await new Backend({ models: [SMOLLM] }).start();
    browser = await launch();
    await signIn(browser.page, backend);
    await markOnboarded(browser.page);
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  test('regenerate keeps 1/2, an edit is a branch, and the choice is stored', async () => {
    const { page, errors } = browser;
    await page.goto(`${backend.url}/#/chat`);
    await page.getByRole('heading', { name: 'What can I help with?' }).waitFor();
    await page.getByLabel('Model', { exact: true }).selectOption(SMOLLM);
    await page.getByRole('button', { name: 'Parameters' }).click();
    await page.getByLabel('Max tokens').fill('24');
    await page.getByRole('button', { name: 'Close' }).click();

    const box = page.getByLabel('Message', { exact: true });
    await box.fill('Name one fruit.');
    await box.press('Enter');
    await page.locator('article.message-assistant:not(.pending)').waitFor({ timeout: 90_000 });
    await idle(page);
    const id = page.url().split('/').pop();
    const [, first] = await path(backend, id);
    assert.equal(await page.getByTestId('alternatives').count(), 0); // one answer: no switcher

    // Regenerate: the new answer is 2/2, the old one is kept.
    await page.getByRole('button', { name: 'Regenerate answer' }).click();
    await page.getByTestId('alternatives-count').getByText('2/2').waitFor({ timeout: 90_000 });
    await idle(page);
    let saved = await path(backend, id);
    assert.equal(saved.length, 2, JSON.stringify(saved, null, 1));
    const second = saved[1];
    assert.deepEqual(second.sibling_ids, [first.id, second.id]);
    await showsAnswer(page, second);
    await page.locator('article.message-assistant').hover();
    await shot(page, 'alternatives-answer-2-of-2', false);

    // Back to the first answer: the stored text of that message, and the choice is stored.
    await page.getByRole('button', { name: 'Previous answer' }).click();
    await page.getByTestId('alternatives-count').getByText('1/2').waitFor();
    saved = await path(backend, id);
    assert.equal(saved[1].id, first.id);
    await showsAnswer(page, saved[1]);
    await page.reload();
    await page.locator('article.message-assistant').waitFor();
    await showsAnswer(page, (await path(backend, id))[1]);
    assert.equal(await page.getByRole('button', { name: 'Next answer' }).isEnabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Previous answer' }).isEnabled(), false);

    // Edit the question: a second branch with its own answer; the first is kept whole.
    await page.getByRole('button', { name: 'Edit and resend' }).click();
    await page.getByLabel('Edited message').fill('Name one vegetable.');
    await page.getByLabel('Edited message').press('Enter');
    await page.locator('article.message-user').getByTestId('alternatives-count').getByText('2/2').waitFor({
      timeout: 90_000,
    });
    await idle(page);
    saved = await path(backend, id);
    assert.deepEqual(
      saved.map((m) => [m.role, m.alternative, m.alternatives]),
      [
        ['user', 2, 2],
        ['assistant', 1, 1],
      ],
    );
    assert.equal(saved[0].content, 'Name one vegetable.');
    assert.equal(await page.locator('article.message-user .user-text').innerText(), 'Name one vegetable.');
    await page.locator('article.message-user').hover();
    await shot(page, 'alternatives-question-2-of-2', false);

    await page.getByRole('button', { name: 'Previous version' }).click();
    await page.locator('article.message-user .user-text').getByText('Name one fruit.').waitFor();
    saved = await path(backend, id);
    assert.deepEqual(
      saved.map((m) => m.id),
      [saved[0].sibling_ids[0], first.id],
    );
    await showsAnswer(page, saved[1]); // that branch's own choice, 1/2, as it was left

    // The next turn follows what is shown.
    await box.fill('And one more?');
    await box.press('Enter');
    await page.locator('article.message-assistant:not(.pending)').nth(1).waitFor({ timeout: 90_000 });
    await idle(page);
    saved = await path(backend, id);
    assert.equal(saved.length, 4);
    assert.equal(saved[2].parent_id, first.id);
    await shot(page, 'alternatives-conversation', true);

    // The monitor counts every answer generated: 2 + 1 + 1, alternatives included.
    const answers = await backend.api('GET', '/api/metrics/answers?limit=60');
    assert.equal(answers.total, 4);
    await page.goto(`${backend.url}/#/monitor`);
    await page.getByTestId('answer-count').getByText('4 answers').waitFor();
    assert.deepEqual(errors, []);
  });
});
