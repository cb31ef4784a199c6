// @ts-check
'use strict';

/** The backend supervisor: plain Node, no Electron, so tests drive it with real child processes. */
const { backendCommand } = require('./command');
const { Supervisor, DEFAULT_TIMEOUTS } = require('./supervisor');

module.exports = { Supervisor, DEFAULT_TIMEOUTS, backendCommand };
