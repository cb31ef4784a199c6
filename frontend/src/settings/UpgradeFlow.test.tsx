import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeBackend, apiError, json, sseStream } from '../test/fakeBackend';
import { PINNED, caps, job } from '../test/capabilities';
import { renderWithApp } from '../test/render';
import { HardwarePanel } from './HardwarePanel';
import { UpgradeHost } from './UpgradeFlow';

function backendWith(recommendation = PINNED) {
  return new FakeBackend()
    .on('GET', '/api/capabilities', () => json(caps(recommendation)))
    .on('GET', '/api/admin/upgrade-gpu', () => json({ job: null }));
}

describe('Settings → Hardware & runtime', () => {
  it('shows each GPU, the CPU flags and the runtime, and why no upgrade is offered', async () => {
    renderWithApp(
      <UpgradeHost>
        <HardwarePanel />
      </UpgradeHost>,
      backendWith(caps().recommendation),
    );
    const card = await screen.findByTestId('gpu-card');
    expect(within(card).getByText('NVIDIA GeForce RTX 3060')).toBeInTheDocument();
    expect(card).toHaveTextContent('12.0 GiB');
    expect(card).toHaveTextContent('535.183.01');
    expect(card).toHaveTextContent('12.2');
    expect(card).toHaveTextContent('8.6');
    expect(screen.getByTestId('cpu-card')).toHaveTextContent('AVX2 ✓');
    expect(screen.getByTestId('cpu-card')).toHaveTextContent('AVX512 ✗');
    expect(screen.getByTestId('runtime-id')).toHaveTextContent('The built-in CPU runtime (cpu-bundled)');
    expect(screen.getByTestId('recommendation-reason')).toHaveTextContent('is not pinned yet');
    expect(screen.queryByRole('button', { name: 'Upgrade to GPU' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Revert to CPU runtime' })).toBeNull();
  });

  it('asks consent with size and source, shows progress, restarts, reconnects and shows the speed-up', async () => {
    const events = sseStream();
    let restarted = false;
    const backend = backendWith()
      .on('POST', '/api/admin/upgrade-gpu', () => json(job('resolving'), 202))
      .on('GET', '/api/admin/upgrade-gpu/job1/events', () => events.response)
      .on('GET', '/api/admin/upgrade-gpu/job1', () => {
        if (!restarted) return Promise.reject(new TypeError('fetch failed'));
        return json(
          job('done', {
            state: 'done',
            result: { cpu_tokens_per_s: 21.5, new_tokens_per_s: 96.3, speedup: 4.48, offloaded_layers: 33 },
          }),
        );
      });
    renderWithApp(
      <UpgradeHost>
        <HardwarePanel />
      </UpgradeHost>,
      backend,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Upgrade to GPU' }));
    const consent = screen.getByRole('dialog', { name: 'Upgrade to GPU' });
    expect(within(consent).getByTestId('consent-size')).toHaveTextContent('3.0 GiB');
    expect(within(consent).getByTestId('consent-hosts')).toHaveTextContent(
      'wheels.example.org, files.pythonhosted.org',
    );
    await userEvent.click(within(consent).getByRole('button', { name: 'Download and install' }));

    await screen.findByRole('dialog', { name: 'Upgrading to GPU' });
    expect(backend.callsTo('POST', '/api/admin/upgrade-gpu')[0].body).toEqual({ variant: 'cuda-12.4' });
    await act(async () => {
      events.push(
        'progress',
        job('downloading', {
          bytes_done: 512 * 1024 ** 2,
          bytes_total: 1024 ** 3,
          rate: 10 * 1024 ** 2,
          eta_seconds: 51,
        }),
      );
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByTestId('upgrade-stage')).toHaveTextContent('Downloading');
    expect(screen.getByRole('progressbar', { name: 'Download progress' })).toHaveAttribute(
      'value',
      String(512 * 1024 ** 2),
    );
    expect(screen.getByText('10.0 MiB/s')).toBeInTheDocument();
    expect(screen.getByText('51 s left')).toBeInTheDocument();

    await act(async () => {
      events.push('progress', job('restart_requested'));
      events.end();
      await new Promise((r) => setTimeout(r, 10));
    });
    expect(screen.getByRole('dialog', { name: 'Restarting…' })).toBeInTheDocument();
    restarted = true;
    const result = await screen.findByRole('dialog', { name: 'Hearth now uses the GPU' }, { timeout: 4000 });
    expect(within(result).getByText('21.5 tokens/s')).toBeInTheDocument();
    expect(within(result).getByText('96.3 tokens/s')).toBeInTheDocument();
    expect(within(result).getByText('4.5×')).toBeInTheDocument();
  });

  it('a failure says why and that Hearth is back on the CPU runtime', async () => {
    const backend = backendWith().on('POST', '/api/admin/upgrade-gpu', () =>
      json(
        job('failed', {
          state: 'failed',
          reverted_to_cpu: true,
          error: {
            code: 'activation_failed',
            message: 'The new runtime crashed twice after the switch (signal SIGSEGV).',
          },
        }),
      ),
    );
    renderWithApp(
      <UpgradeHost>
        <HardwarePanel />
      </UpgradeHost>,
      backend,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Upgrade to GPU' }));
    await userEvent.click(screen.getByRole('button', { name: 'Download and install' }));
    const result = await screen.findByRole('dialog', { name: 'The GPU upgrade did not complete' });
    expect(result).toHaveTextContent('signal SIGSEGV');
    expect(result).toHaveTextContent('Hearth went back to the CPU runtime');
  });

  it('a refused start stays in the consent dialog with the reason', async () => {
    const backend = backendWith().on('POST', '/api/admin/upgrade-gpu', () =>
      apiError(409, 'conflict', 'Not enough disk space.'),
    );
    renderWithApp(
      <UpgradeHost>
        <HardwarePanel />
      </UpgradeHost>,
      backend,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Upgrade to GPU' }));
    await userEvent.click(screen.getByRole('button', { name: 'Download and install' }));
    expect(await screen.findByText('Could not start: Not enough disk space.')).toBeInTheDocument();
  });

  it('at startup shows a fresh result the page has not shown yet (after Electron reloaded it)', async () => {
    const done = job('done', {
      state: 'done',
      result: { cpu_tokens_per_s: 10, new_tokens_per_s: 50, speedup: 5, offloaded_layers: 30 },
    });
    const backend = backendWith().on('GET', '/api/admin/upgrade-gpu', () => json({ job: done }));
    renderWithApp(<UpgradeHost>{null}</UpgradeHost>, backend);
    expect(await screen.findByRole('dialog', { name: 'Hearth now uses the GPU' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(localStorage.getItem('hearth.upgrade.seen')).toBe('"job1"');
  });
});
