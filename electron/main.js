// @ts-check
'use strict';

// Electron entry point. Everything lives in shell/ (glue), policy/ (pure) and supervisor/ (plain Node).
const electron = require('electron');
const { startShell } = require('./shell/start');

startShell(electron);
