import { parseRoute, routeHash } from './router';

describe('routes', () => {
  it.each([
    ['#/documents', { name: 'documents', id: null }],
    ['#/documents/abc123', { name: 'documents', id: 'abc123' }],
    ['#/chat/c%201', { name: 'chat', id: 'c 1' }],
    ['#/models', { name: 'models' }],
    ['#/nowhere', { name: 'chat', id: null }],
  ])('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    if (hash !== '#/nowhere') expect(routeHash(parseRoute(hash))).toBe(hash);
  });
});
