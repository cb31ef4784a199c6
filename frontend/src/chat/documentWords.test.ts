import { ApiError } from '../api/client';
import type { DocLibrary } from '../api/types';
import { documentsLabel, excerptProblem, excerptWhere, libraryWarning, noticesOf, toggled } from './documentWords';

function library(extra: Partial<DocLibrary> = {}): DocLibrary {
  return {
    id: 'l1',
    name: 'Moon research',
    conversation_id: null,
    embedding_model: null,
    created_at: '',
    updated_at: '',
    documents: 1,
    indexed: 1,
    failed: 0,
    pending: 0,
    chunks: 3,
    state: 'ready',
    state_message: null,
    active_job: null,
    ...extra,
  };
}

describe('documentsLabel', () => {
  it.each([
    [[], 'Documents'],
    [[{ name: 'Moon research' }], 'Documents: Moon research'],
    [[{ name: 'A' }, { name: 'B' }], 'Documents: 2 libraries'],
  ])('%j -> %s', (attached, label) => {
    expect(documentsLabel(attached)).toBe(label);
  });
});

describe('toggled', () => {
  it.each([
    [[], 'a', true, ['a']],
    [['a'], 'b', true, ['a', 'b']],
    [['a', 'b'], 'a', false, ['b']],
    [['a'], 'a', true, ['a']],
    [[], 'a', false, []],
  ])('%j %s %s -> %j', (ids, id, on, out) => {
    expect(toggled(ids, id, on)).toEqual(out);
  });
});

describe('libraryWarning', () => {
  it('says nothing for a ready library, and why the others add nothing', () => {
    expect(libraryWarning(library())).toBeNull();
    expect(libraryWarning(library({ state: 'empty', chunks: 0 }))).toMatch(/no indexed documents/);
    const message = 'Moon research was indexed with another model; re-index it.';
    expect(libraryWarning(library({ state: 'reindex_required', state_message: message }))).toBe(message);
    expect(libraryWarning(library({ state: 'no_embedding_model' }))).toBe('It cannot be searched right now.');
  });
});

describe('excerptWhere', () => {
  it.each([
    [{}, ''],
    [{ page: 3 }, 'page 3'],
    [{ heading: 'Tides' }, 'Tides'],
    [{ page: 0, heading: 'Intro' }, 'page 0 · Intro'],
    [{ page: null, heading: null }, ''],
  ])('%j -> %s', (source, where) => {
    expect(excerptWhere(source)).toBe(where);
  });
});

describe('excerptProblem', () => {
  it('says in words why an excerpt is gone', () => {
    expect(excerptProblem(new ApiError(404, 'chunk_not_found', 'chunk x not found'))).toMatch(
      /no longer in the library/,
    );
    expect(excerptProblem(new ApiError(404, 'library_not_found', 'library l not found'))).toMatch(/deleted/);
    expect(excerptProblem(ApiError.offline())).toBe("Hearth's backend is not reachable right now.");
    expect(excerptProblem(new Error('boom'))).toBe('boom');
  });
});

describe('noticesOf', () => {
  it('keeps well-formed notices and ignores the rest', () => {
    const good = { code: 'reindex_required', message: 'Re-index it.', library_id: 'l1' };
    expect(noticesOf({ notices: [good, { code: 'x' }, null, 'text'] })).toEqual([good]);
    expect(noticesOf(null)).toEqual([]);
    expect(noticesOf({ notices: 'nope' })).toEqual([]);
  });
});
