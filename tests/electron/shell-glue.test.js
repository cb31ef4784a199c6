'use strict';
// electron/shell/ driven by a fake electron module and a real supervisor running fixture backends.
const assert = require('node:assert/strict');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { test } = require('node:test');

const { PAGES, PRELOAD, startShell } = require('../../electron/shell/start');
const { createFakeElectron } = require('./fake-electron');
const { fixtureSupervisor, next } = require('./helpers');

function startWith(t, fixture, options = {}) {
  const fake = createFakeElectron();
  let fixtureRun;
  const started = startShell(fake.electron, {
    createSupervisor: () => {
      fixtureRun = fixtureSupervisor(t, fixture, options);
      return fixtureRun.supervisor;
    },
  });
  fake.ready();
  return { ...fake, supervisor: started.supervisor, fixture: fixtureRun, window: () => fake.calls.windows[0] };
}

test('a second instance quits at once and starts nothing', () => {
  const fake = createFakeElectron({ singleInstance: false });
  let created = false;
  const started = startShell(fake.electron, {
    createSupervisor: () => {
      created = true;
    },
  });
  assert.equal(started, null);
  assert.equal(fake.calls.quit, 1);
  assert.equal(created, false);
});

test('the window is sandboxed and isolated, shows the loading page, then the backend', async (t) => {
  const { supervisor, window, electron, calls } = startWith(t, 'well-behaved.js');
  const ready = await next(supervisor, 'ready');
  const win = window();

  assert.equal(electron.app.sandboxEnabled, true);
  const prefs = win.options.webPreferences;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.spellcheck, false);
  assert.equal(prefs.preload, PRELOAD);

  assert.deepEqual(win.loads[0], { file: PAGES.loading, query: { message: 'Starting Hearth…' } });
  assert.deepEqual(win.loads.at(-1), { url: ready.url });
  assert.equal(calls.menus.length, 1);
});

test('IPC: the app origin gets the token, other frames do not', async (t) => {
  const { supervisor, electron } = startWith(t, 'well-behaved.js');
  const { ipcMain } = electron;
  const errorPage = `${pathToFileURL(PAGES.error).href}?reason=x`;
  assert.equal(await ipcMain.invoke('hearth:get-backend', errorPage).catch(() => 'refused'), 'refused');

  const ready = await next(supervisor, 'ready');
  assert.deepEqual(await ipcMain.invoke('hearth:get-backend', `${ready.url}chat`), { url: ready.url, token: ready.token });
  for (const sender of [errorPage, 'https://example.org/', `http://127.0.0.1:${ready.port + 1}/`, null]) {
    await assert.rejects(ipcMain.invoke('hearth:get-backend', sender), /not available/);
  }
  assert.equal(await ipcMain.invoke('hearth:app-version', errorPage), '0.1.0');
  assert.deepEqual(ipcMain.channels().sort(), [
    'hearth:app-version',
    'hearth:get-backend',
    'hearth:open-logs',
    'hearth:restart-backend',
    'hearth:use-cpu-runtime',
  ]);
});

test('navigation, new windows and permissions go through the policies', async (t) => {
  const { supervisor, window, electron, calls, FakeEvent } = startWith(t, 'well-behaved.js');
  const ready = await next(supervisor, 'ready');
  const contents = window().webContents;

  const navigate = (url) => {
    const event = new FakeEvent({ url });
    contents.emit('will-navigate', event, url);
    return event.defaultPrevented;
  };
  assert.equal(navigate(`${ready.url}settings`), false);
  assert.equal(navigate('https://example.org/docs'), true);
  assert.equal(navigate('file:///etc/passwd'), true);
  assert.equal(navigate('javascript:alert(1)'), true);

  assert.deepEqual(contents.windowOpenHandler({ url: 'https://example.org/new' }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler({ url: ready.url }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler({ url: 'file:///etc/passwd' }), { action: 'deny' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls.openExternal, ['https://example.org/docs', 'https://example.org/new']);

  const frame = new FakeEvent({ url: 'https://example.org/', isMainFrame: false });
  contents.emit('will-frame-navigate', frame);
  assert.equal(frame.defaultPrevented, true);
  const webview = new FakeEvent();
  contents.emit('will-attach-webview', webview);
  assert.equal(webview.defaultPrevented, true);

  const ses = electron.session.defaultSession;
  const ask = (permission, requestingUrl) =>
    new Promise((resolve) => ses.permissionRequestHandler(contents, permission, resolve, { requestingUrl }));
  assert.equal(await ask('clipboard-sanitized-write', ready.url), true);
  assert.equal(await ask('media', ready.url), false);
  assert.equal(await ask('clipboard-sanitized-write', 'https://example.org/'), false);
  assert.equal(ses.permissionCheckHandler(contents, 'notifications', new URL(ready.url).origin), false);
  assert.equal(ses.permissionCheckHandler(contents, 'fullscreen', new URL(ready.url).origin), true);
  assert.equal(ses.devicePermissionHandler({ deviceType: 'usb' }), false);
});

test('a failed backend shows the error page with the stderr tail; its buttons reach the supervisor', async (t) => {
  const { supervisor, window, electron } = startWith(t, 'exits-at-once.js', { budget: { maxRestarts: 0 } });
  const failed = await next(supervisor, 'failed');
  const shown = window().loads.at(-1);
  assert.equal(shown.file, PAGES.error);
  assert.equal(shown.query.reason, failed.reason);
  assert.match(shown.query.stderr, /^fatal: cannot load the model/);

  const errorPage = `${pathToFileURL(PAGES.error).href}?reason=x`;
  const restarting = next(supervisor, 'restarting');
  const startingAgain = next(supervisor, 'starting');
  await electron.ipcMain.invoke('hearth:use-cpu-runtime', errorPage);
  assert.equal((await restarting).reason, 'switching to the CPU runtime');
  const starting = await startingAgain;
  assert.equal(starting.forceCpu, true);
  assert.equal(starting.previousExit, 'exit code 3');
});

test('quitting waits for the supervisor to stop the backend', async (t) => {
  const { supervisor, electron, calls, fixture } = startWith(t, 'well-behaved.js');
  await next(supervisor, 'ready');
  electron.app.quit();
  assert.equal(supervisor.state, 'stopping', 'the first quit is held back');
  await next(supervisor, 'stopped');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.quit, 2, 'then quit again, and this time it goes through');
  assert.deepEqual(
    fixture.boots().map((b) => b.event),
    ['boot', 'sigterm'],
  );
});

test('the shell pages load their scripts and styles from files, with a strict CSP', () => {
  const fs = require('node:fs');
  for (const page of Object.values(PAGES)) {
    const html = fs.readFileSync(page, 'utf8');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'"/);
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>|\son\w+=/, 'no inline script or handlers');
    for (const [, ref] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      assert.ok(fs.existsSync(path.join(path.dirname(page), ref)), `${ref} exists`);
    }
  }
  const errorScript = fs.readFileSync(path.join(path.dirname(PAGES.error), 'error.js'), 'utf8');
  assert.doesNotMatch(errorScript, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});
