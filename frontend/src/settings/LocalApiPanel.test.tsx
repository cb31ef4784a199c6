import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ApiKey, ApiServerChange, ApiServerStatus, AuditEntry } from '../api/types';
import { FakeBackend, apiError, json } from '../test/fakeBackend';
import { renderWithApp } from '../test/render';
import { LocalApiPanel } from './LocalApiPanel';

const BUSY = 'Port 9000 is in use by another program; choose another.';

/** A fake of hearth/api/local_server.py and keys.py, with their state. */
function fakeLocalApi(busyPort?: number) {
  let config = { enabled: false, port: 8484, lan: false };
  let error: string | null = null;
  const keys: ApiKey[] = [];
  const audit: AuditEntry[] = [];
  const status = (): ApiServerStatus => ({
    ...config,
    listening: config.enabled && error === null,
    error,
    base_url: `http://127.0.0.1:${config.port}/v1`,
    lan_urls: config.lan ? [`http://192.168.1.20:${config.port}/v1`] : [],
  });
  const backend = new FakeBackend()
    .on('GET', '/api/admin/api-server', () => json(status()))
    .on('PUT', '/api/admin/api-server', (call) => {
      const body = call.body as ApiServerChange;
      if (body.enabled && body.lan && !config.lan && !body.confirm_lan) {
        return apiError(400, 'confirm_lan', 'Confirm it to turn it on.');
      }
      config = { enabled: body.enabled, port: body.port, lan: body.lan };
      error = body.enabled && body.port === busyPort ? BUSY : null;
      return error ? apiError(409, 'port_unavailable', error) : json(status());
    })
    .on('GET', '/api/admin/keys', () => json({ keys }))
    .on('POST', '/api/admin/keys', (call) => {
      const body = call.body as Pick<ApiKey, 'name' | 'role' | 'requests_per_minute' | 'tokens_per_minute'>;
      const key: ApiKey = {
        id: keys.length + 1,
        hint: 'hk_Abcd…wxyz',
        created_at: Date.now() / 1000,
        last_used_at: null,
        revoked_at: null,
        ...body,
        requests_per_minute: body.requests_per_minute ?? null,
        tokens_per_minute: body.tokens_per_minute ?? null,
      };
      keys.push(key);
      return json({ ...key, secret: 'hk_Abcd-the-whole-secret-wxyz' }, 201);
    })
    .on('PATCH', /^\/api\/admin\/keys\/(\d+)$/, (call, m) => {
      const key = keys[Number(m[1]) - 1];
      Object.assign(key, call.body);
      return json(key);
    })
    .on('DELETE', /^\/api\/admin\/keys\/(\d+)$/, (_call, m) => {
      const key = keys[Number(m[1]) - 1];
      key.revoked_at = Date.now() / 1000;
      return json(key);
    })
    .on('GET', /^\/api\/admin\/audit/, () => json({ entries: [...audit].reverse() }))
    .on('GET', /^\/v1\/batches/, () =>
      json({ object: 'list', data: [], first_id: null, last_id: null, has_more: false }),
    );
  return { backend, keys, audit, config: () => config };
}

describe('LocalApiPanel: the server', () => {
  it('turns on, says where it listens, and copies the base URL', async () => {
    const user = userEvent.setup();
    const { backend } = fakeLocalApi();
    renderWithApp(<LocalApiPanel />, backend);
    const toggle = await screen.findByRole('switch', { name: 'Local API server' });
    expect(toggle).not.toBeChecked();
    expect(screen.getByTestId('api-server-status')).toHaveTextContent("Off: other programs cannot reach Hearth's API.");

    await user.click(toggle);
    await waitFor(() => expect(toggle).toBeChecked());
    expect(screen.getByTestId('api-server-status')).toHaveTextContent(
      'Listening on http://127.0.0.1:8484/v1 (this computer only)',
    );
    expect(backend.callsTo('PUT', '/api/admin/api-server')[0].body).toEqual({ enabled: true, port: 8484, lan: false });

    await user.click(screen.getByRole('button', { name: 'Copy the base URL' }));
    expect(await navigator.clipboard.readText()).toBe('http://127.0.0.1:8484/v1');
    expect(screen.getByRole('button', { name: 'Copied' })).toHaveTextContent('Copied');
    expect(screen.getByTestId('api-usage')).toHaveTextContent(
      'client = OpenAI(base_url="http://127.0.0.1:8484/v1", api_key="hk_…")',
    );
  });

  it('validates the port, and shows the backend sentence for a busy one', async () => {
    const user = userEvent.setup();
    const { backend } = fakeLocalApi(9000);
    renderWithApp(<LocalApiPanel />, backend);
    await user.click(await screen.findByRole('switch', { name: 'Local API server' }));
    const port = screen.getByLabelText('Port');
    const apply = screen.getByRole('button', { name: 'Apply' });
    expect(apply).toBeDisabled(); // nothing changed

    await user.clear(port);
    await user.type(port, '80');
    expect(port).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('A port is a whole number from 1024 to 65535.')).toBeInTheDocument();
    expect(apply).toBeDisabled();

    await user.clear(port);
    await user.type(port, '9000');
    await user.click(apply);
    expect(await screen.findByRole('alert')).toHaveTextContent(BUSY);
    expect(screen.getByTestId('api-base-url')).toHaveTextContent('http://127.0.0.1:9000/v1');
    // Once the other program is gone, the same port can be tried again.
    expect(apply).toBeEnabled();
  });

  it('asks before serving the local network; Cancel changes nothing', async () => {
    const user = userEvent.setup();
    const { backend, config } = fakeLocalApi();
    renderWithApp(<LocalApiPanel />, backend);
    await user.click(await screen.findByRole('switch', { name: 'Local API server' }));
    await waitFor(() => expect(config().enabled).toBe(true));
    const lan = screen.getByRole('checkbox', { name: 'Serve on the local network' });

    await user.click(lan);
    let dialog = screen.getByRole('dialog', { name: 'Serve on the local network?' });
    expect(dialog).toHaveTextContent(
      "Every computer on your network can then use Hearth's models, conversations and documents with an API key. Requests from other computers always need a key.",
    );
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(lan).not.toBeChecked();
    expect(backend.callsTo('PUT', '/api/admin/api-server')).toHaveLength(1);

    await user.click(lan);
    dialog = screen.getByRole('dialog', { name: 'Serve on the local network?' });
    await user.click(within(dialog).getByRole('button', { name: 'Serve on the network' }));
    await waitFor(() => expect(lan).toBeChecked());
    expect(backend.callsTo('PUT', '/api/admin/api-server')[1].body).toEqual({
      enabled: true,
      port: 8484,
      lan: true,
      confirm_lan: true,
    });
    expect(screen.getByTestId('api-lan-urls')).toHaveTextContent('http://192.168.1.20:8484/v1');
    expect(screen.getByTestId('api-server-status')).toHaveTextContent('and on the local network');

    await user.click(lan); // off again: no question
    await waitFor(() => expect(lan).not.toBeChecked());
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(backend.callsTo('PUT', '/api/admin/api-server')[2].body).toEqual({ enabled: true, port: 8484, lan: false });
  });
});

describe('LocalApiPanel: keys and calls', () => {
  it('makes a key and shows its secret once', async () => {
    const user = userEvent.setup();
    const { backend } = fakeLocalApi();
    renderWithApp(<LocalApiPanel />, backend);
    await screen.findByText(/No keys yet/);
    const make = screen.getByRole('button', { name: 'Make key' });
    expect(make).toBeDisabled(); // no name yet
    await user.type(screen.getByLabelText('Name'), '  Editor  ');
    expect(screen.getByTestId('role-help')).toHaveTextContent('read');
    await user.selectOptions(screen.getByLabelText('Role'), 'read');
    await user.type(screen.getByLabelText('Requests per minute'), '0');
    expect(make).toBeDisabled();
    await user.clear(screen.getByLabelText('Requests per minute'));
    await user.type(screen.getByLabelText('Requests per minute'), '60');
    await user.click(make);

    const dialog = await screen.findByRole('dialog', { name: 'New key: Editor' });
    expect(dialog).toHaveTextContent('This key will not be shown again');
    expect(within(dialog).getByTestId('new-key-secret')).toHaveTextContent('hk_Abcd-the-whole-secret-wxyz');
    await user.click(within(dialog).getByRole('button', { name: 'Copy the key' }));
    expect(await navigator.clipboard.readText()).toBe('hk_Abcd-the-whole-secret-wxyz');
    expect(backend.callsTo('POST', '/api/admin/keys')[0].body).toEqual({
      name: 'Editor',
      role: 'read',
      requests_per_minute: 60,
      tokens_per_minute: null,
    });
    await user.keyboard('{Escape}'); // a stray Escape does not lose the secret
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('hk_Abcd-the-whole-secret-wxyz')).toBeNull();

    const row = screen.getByRole('row', { name: /Editor/ });
    expect(row).toHaveTextContent('read');
    expect(row).toHaveTextContent('hk_Abcd…wxyz');
    expect(row).toHaveTextContent('never');
    expect(row).toHaveTextContent('60 requests/min');
    expect(screen.getByLabelText('Name')).toHaveValue(''); // the form is ready for the next one
  });

  it('changes limits and revokes after asking', async () => {
    const user = userEvent.setup();
    const { backend, keys } = fakeLocalApi();
    keys.push({
      id: 1,
      name: 'Agent',
      role: 'user',
      hint: 'hk_Qwer…tyui',
      requests_per_minute: null,
      tokens_per_minute: null,
      created_at: Date.now() / 1000 - 7200,
      last_used_at: Date.now() / 1000 - 300,
      revoked_at: null,
    });
    renderWithApp(<LocalApiPanel />, backend);
    const row = await screen.findByRole('row', { name: /Agent/ });
    expect(row).toHaveTextContent('5 min ago');
    expect(row).toHaveTextContent('No limits');

    await user.click(within(row).getByRole('button', { name: 'Edit the limits of Agent' }));
    let dialog = screen.getByRole('dialog', { name: 'Limits of Agent' });
    await user.type(within(dialog).getByLabelText('Tokens per minute'), '20000');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(row).toHaveTextContent('20,000 tokens/min'));
    expect(backend.callsTo('PATCH', '/api/admin/keys/1')[0].body).toEqual({
      requests_per_minute: null,
      tokens_per_minute: 20000,
    });

    await user.click(within(row).getByRole('button', { name: 'Revoke Agent' }));
    dialog = screen.getByRole('dialog', { name: 'Revoke Agent?' });
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(backend.callsTo('DELETE', '/api/admin/keys/1')).toHaveLength(0);

    await user.click(within(row).getByRole('button', { name: 'Revoke Agent' }));
    dialog = screen.getByRole('dialog', { name: 'Revoke Agent?' });
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(row).toHaveTextContent('Revoked just now'));
    expect(within(row).queryByRole('button')).toBeNull();
    expect(backend.callsTo('DELETE', '/api/admin/keys/1')).toHaveLength(1);
  });

  it('lists recent calls, newest first, by key name, and refreshes', async () => {
    const user = userEvent.setup();
    const { backend, keys, audit } = fakeLocalApi();
    keys.push({
      id: 1,
      name: 'Agent',
      role: 'user',
      hint: 'hk_Qwer…tyui',
      requests_per_minute: null,
      tokens_per_minute: null,
      created_at: 0,
      last_used_at: null,
      revoked_at: null,
    });
    renderWithApp(<LocalApiPanel />, backend);
    expect(await screen.findByText('No calls with a key yet.')).toBeInTheDocument();
    const now = Date.now() / 1000;
    audit.push({ id: 1, key_id: 1, method: 'GET', route: '/v1/models', status: 200, at: now - 120 });
    audit.push({ id: 2, key_id: 7, method: 'POST', route: '/v1/chat/completions', status: 401, at: now });
    await user.click(screen.getByRole('button', { name: 'Refresh' }));

    const items = within(await screen.findByTestId('api-audit')).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('just now');
    expect(items[0]).toHaveTextContent('key 7');
    expect(items[0]).toHaveTextContent('POST /v1/chat/completions');
    expect(items[0]).toHaveTextContent('401');
    expect(items[1]).toHaveTextContent('2 min ago');
    expect(items[1]).toHaveTextContent('Agent');
    expect(items[1]).toHaveTextContent('GET /v1/models');
    expect(backend.callsTo('GET', '/api/admin/audit')[0].path).toBe('/api/admin/audit?limit=20');
    expect(backend.callsTo('GET', '/api/admin/keys')).toHaveLength(2); // "last used" is read again
  });
});
