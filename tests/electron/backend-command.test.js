'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { backendCommand } = require('../../electron/supervisor');

const ROWS = [
  [
    { packaged: true, resourcesPath: '/opt/Hearth/resources', repoRoot: '/ignored', platform: 'linux' },
    { command: '/opt/Hearth/resources/backend/hearth-backend', args: ['serve'], cwd: '/opt/Hearth/resources/backend' },
  ],
  [
    { packaged: true, resourcesPath: '/Applications/Hearth.app/Contents/Resources', repoRoot: '/x', platform: 'darwin' },
    {
      command: '/Applications/Hearth.app/Contents/Resources/backend/hearth-backend',
      args: ['serve'],
      cwd: '/Applications/Hearth.app/Contents/Resources/backend',
    },
  ],
  [
    { packaged: true, resourcesPath: 'C:\\Program Files\\Hearth\\resources', repoRoot: 'C:\\x', platform: 'win32' },
    {
      command: 'C:\\Program Files\\Hearth\\resources\\backend\\hearth-backend.exe',
      args: ['serve'],
      cwd: 'C:\\Program Files\\Hearth\\resources\\backend',
    },
  ],
  [
    { packaged: false, resourcesPath: '/ignored', repoRoot: '/work/main', platform: 'linux' },
    { command: '/work/main/.venv/bin/python', args: ['-m', 'hearth', 'serve'], cwd: '/work/main' },
  ],
  [
    { packaged: false, resourcesPath: '/ignored', repoRoot: '/Users/me/hearth', platform: 'darwin' },
    { command: '/Users/me/hearth/.venv/bin/python', args: ['-m', 'hearth', 'serve'], cwd: '/Users/me/hearth' },
  ],
  [
    { packaged: false, resourcesPath: 'C:\\ignored', repoRoot: 'C:\\src\\hearth', platform: 'win32' },
    { command: 'C:\\src\\hearth\\.venv\\Scripts\\python.exe', args: ['-m', 'hearth', 'serve'], cwd: 'C:\\src\\hearth' },
  ],
];

for (const [where, expected] of ROWS) {
  test(`${where.packaged ? 'packaged' : 'dev'} on ${where.platform} -> ${expected.command}`, () => {
    assert.deepEqual(backendCommand(where), expected);
  });
}
