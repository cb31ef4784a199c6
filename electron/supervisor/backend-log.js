// @ts-check
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROTATE_BYTES = 5 * 1024 * 1024;

/**
 * Appends the backend's stdout/stderr and the supervisor's decisions to one file, for
 * "Open logs folder". Logging must never take the shell down, so I/O errors switch it off.
 */
class BackendLog {
  /** @param {string | null} file */
  constructor(file) {
    this.file = file;
    /** @type {fs.WriteStream | null} */
    this.stream = null;
    this.broken = file === null;
  }

  /**
   * @param {'stdout' | 'stderr' | 'shell'} source
   * @param {string} line
   */
  write(source, line) {
    if (this.broken) return;
    if (this.stream === null) this.stream = this.#open();
    this.stream?.write(`${new Date().toISOString()} [${source}] ${line}\n`);
  }

  /** @returns {Promise<void>} */
  close() {
    const stream = this.stream;
    this.stream = null;
    this.broken = true;
    if (stream === null) return Promise.resolve();
    return new Promise((resolve) => stream.end(() => resolve()));
  }

  /** @returns {fs.WriteStream | null} */
  #open() {
    const file = /** @type {string} */ (this.file);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) > ROTATE_BYTES) {
        fs.renameSync(file, `${file}.1`);
      }
      const stream = fs.createWriteStream(file, { flags: 'a' });
      stream.on('error', () => {
        this.broken = true;
        this.stream = null;
      });
      return stream;
    } catch {
      this.broken = true;
      return null;
    }
  }
}

module.exports = { BackendLog };
