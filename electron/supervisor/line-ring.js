// @ts-check
'use strict';

/** The last `capacity` lines of a stream, each cut to `maxLineLength` characters. */
class LineRing {
  /**
   * @param {number} [capacity]
   * @param {number} [maxLineLength]
   */
  constructor(capacity = 50, maxLineLength = 4_000) {
    this.capacity = capacity;
    this.maxLineLength = maxLineLength;
    /** @type {string[]} */
    this.items = [];
  }

  /** @param {string} line */
  push(line) {
    this.items.push(line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}…` : line);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** @returns {string[]} a copy, oldest first */
  lines() {
    return [...this.items];
  }
}

module.exports = { LineRing };
