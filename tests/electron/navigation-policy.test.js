'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { decideNavigation, decideWindowOpen } = require('../../electron/policy/navigation');

const APP = 'http://127.0.0.1:51234';

// [url, appOrigin, navigation verdict, window.open verdict]
const ROWS = [
  // the app itself
  ['http://127.0.0.1:51234/', APP, 'allow', 'deny'],
  ['http://127.0.0.1:51234/chat/42?x=1#end', APP, 'allow', 'deny'],
  ['http://127.0.0.1:51234/', `${APP}/`, 'allow', 'deny'],
  // same host, other port or host spelling: another origin, so the browser gets it
  ['http://127.0.0.1:51235/', APP, 'open-external', 'open-external'],
  ['http://localhost:51234/', APP, 'open-external', 'open-external'],
  ['https://127.0.0.1:51234/', APP, 'open-external', 'open-external'],
  // ordinary links
  ['https://example.org/docs', APP, 'open-external', 'open-external'],
  ['http://example.org/', APP, 'open-external', 'open-external'],
  ['HTTPS://EXAMPLE.ORG/', APP, 'open-external', 'open-external'],
  // tricks that make a foreign host look local
  ['http://127.0.0.1:51234@evil.example/', APP, 'deny', 'deny'],
  ['https://user:pass@example.org/', APP, 'deny', 'deny'],
  ['http://127.0.0.1:51234.evil.example/', APP, 'deny', 'deny'],
  // schemes the app never hands to the OS
  ['file:///etc/passwd', APP, 'deny', 'deny'],
  ['javascript:alert(1)', APP, 'deny', 'deny'],
  ['data:text/html,<script>alert(1)</script>', APP, 'deny', 'deny'],
  ['mailto:someone@example.org', APP, 'deny', 'deny'],
  ['ms-msdt:/id PCWDiagnostic', APP, 'deny', 'deny'],
  ['smb://server/share', APP, 'deny', 'deny'],
  ['chrome://settings', APP, 'deny', 'deny'],
  ['about:blank', APP, 'deny', 'deny'],
  ['blob:http://127.0.0.1:51234/6c5e2ed5', APP, 'deny', 'deny'],
  ['filesystem:http://127.0.0.1:51234/temporary/x', APP, 'deny', 'deny'],
  // not URLs
  ['', APP, 'deny', 'deny'],
  ['not a url', APP, 'deny', 'deny'],
  ['//example.org/', APP, 'deny', 'deny'],
  // before the backend is ready there is no app origin: nothing is "the app"
  ['http://127.0.0.1:51234/', null, 'open-external', 'open-external'],
  ['file:///opt/hearth/resources/app.asar/electron/pages/error.html', null, 'deny', 'deny'],
  ['https://example.org/', undefined, 'open-external', 'open-external'],
  // a malformed or non-http app origin never matches
  ['http://127.0.0.1:51234/', 'not an origin', 'open-external', 'open-external'],
  ['file:///x', 'file:///x', 'deny', 'deny'],
];

for (const [url, origin, navigation, windowOpen] of ROWS) {
  test(`navigate ${JSON.stringify(url)} with app ${origin} -> ${navigation}; window.open -> ${windowOpen}`, () => {
    assert.equal(decideNavigation(url, origin), navigation);
    assert.equal(decideWindowOpen(url, origin), windowOpen);
  });
}
