'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { decidePermission } = require('../../electron/policy/permission');

const APP = 'http://127.0.0.1:51234';

// [permission, requesting URL or origin, appOrigin, allowed]
const ROWS = [
  ['clipboard-sanitized-write', 'http://127.0.0.1:51234/chat', APP, true],
  ['clipboard-sanitized-write', 'http://127.0.0.1:51234', APP, true],
  ['fullscreen', 'http://127.0.0.1:51234/', APP, true],
  // the same permissions for anyone else
  ['clipboard-sanitized-write', 'http://127.0.0.1:9999/', APP, false],
  ['clipboard-sanitized-write', 'https://example.org/', APP, false],
  ['fullscreen', 'file:///opt/hearth/error.html', APP, false],
  ['clipboard-sanitized-write', '', APP, false],
  ['clipboard-sanitized-write', 'null', APP, false],
  ['clipboard-sanitized-write', undefined, APP, false],
  ['clipboard-sanitized-write', 'http://127.0.0.1:51234/', null, false],
  // everything else, even for the app
  ['clipboard-read', 'http://127.0.0.1:51234/', APP, false],
  ['media', 'http://127.0.0.1:51234/', APP, false],
  ['geolocation', 'http://127.0.0.1:51234/', APP, false],
  ['notifications', 'http://127.0.0.1:51234/', APP, false],
  ['midi', 'http://127.0.0.1:51234/', APP, false],
  ['midiSysex', 'http://127.0.0.1:51234/', APP, false],
  ['pointerLock', 'http://127.0.0.1:51234/', APP, false],
  ['openExternal', 'http://127.0.0.1:51234/', APP, false],
  ['hid', 'http://127.0.0.1:51234/', APP, false],
  ['serial', 'http://127.0.0.1:51234/', APP, false],
  ['usb', 'http://127.0.0.1:51234/', APP, false],
  ['display-capture', 'http://127.0.0.1:51234/', APP, false],
  ['idle-detection', 'http://127.0.0.1:51234/', APP, false],
  ['fileSystem', 'http://127.0.0.1:51234/', APP, false],
  ['storage-access', 'http://127.0.0.1:51234/', APP, false],
  ['unknown-future-permission', 'http://127.0.0.1:51234/', APP, false],
  ['toString', 'http://127.0.0.1:51234/', APP, false],
];

for (const [permission, requesting, origin, allowed] of ROWS) {
  test(`${permission} from ${requesting} (app ${origin}) -> ${allowed ? 'allow' : 'deny'}`, () => {
    assert.equal(decidePermission(permission, requesting, origin), allowed);
  });
}
