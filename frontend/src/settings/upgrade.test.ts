import { PINNED, job } from '../test/capabilities';
import { cancellable, consentFacts, stageStatus, upgradeReducer } from './upgrade';
import type { UpgradeAction, UpgradePhase } from './upgrade';

const run = (actions: UpgradeAction[], from: UpgradePhase = { kind: 'closed' }) => actions.reduce(upgradeReducer, from);
const source = { kind: 'registry' as const, recommendation: PINNED };

describe('upgradeReducer', () => {
  it('goes consent -> starting -> running -> restarting -> result', () => {
    let phase = run([{ type: 'open', source }]);
    expect(phase.kind).toBe('consent');
    phase = run(
      [{ type: 'start' }, { type: 'job', job: job('downloading', { bytes_done: 10, bytes_total: 100 }) }],
      phase,
    );
    expect(phase).toMatchObject({ kind: 'running', job: { stage: 'downloading' } });
    phase = upgradeReducer(phase, { type: 'job', job: job('restart_requested') });
    expect(phase).toMatchObject({ kind: 'restarting', backendDown: false });
    phase = upgradeReducer(phase, { type: 'backend-down' });
    expect(phase).toMatchObject({ kind: 'restarting', backendDown: true });
    // The new process may still be proving the runtime before it says done.
    phase = upgradeReducer(phase, { type: 'job', job: job('probing') });
    expect(phase.kind).toBe('running');
    phase = upgradeReducer(phase, { type: 'job', job: job('done', { state: 'done' }) });
    expect(phase).toMatchObject({ kind: 'result', job: { state: 'done' } });
  });

  it('a broken event stream while running means the restart began', () => {
    const phase = run([
      { type: 'open', source },
      { type: 'start' },
      { type: 'job', job: job('switching') },
      { type: 'connection-lost' },
    ]);
    expect(phase).toMatchObject({ kind: 'restarting', job: { stage: 'switching' } });
  });

  it('cannot be closed or replaced while it runs', () => {
    const running = run([{ type: 'open', source }, { type: 'start' }, { type: 'job', job: job('verifying') }]);
    expect(upgradeReducer(running, { type: 'close' })).toBe(running);
    expect(upgradeReducer(running, { type: 'open', source })).toBe(running);
  });

  it('a refused start keeps the consent facts and allows another try', () => {
    const failed = run([{ type: 'open', source }, { type: 'start' }, { type: 'start-failed', message: 'disk full' }]);
    expect(failed).toMatchObject({ kind: 'start-failed', message: 'disk full' });
    expect(upgradeReducer(failed, { type: 'start' }).kind).toBe('starting');
    expect(upgradeReducer(failed, { type: 'close' }).kind).toBe('closed');
  });

  it('cancel and failure end in a result', () => {
    const running = run([{ type: 'open', source }, { type: 'start' }, { type: 'job', job: job('downloading') }]);
    const cancelling = upgradeReducer(running, { type: 'cancel' });
    expect(cancelling.kind).toBe('cancelling');
    expect(upgradeReducer(cancelling, { type: 'job', job: job('cancelled', { state: 'cancelled' }) }).kind).toBe(
      'result',
    );
  });

  it('gives up with what it knows when the backend does not come back', () => {
    const restarting = run([{ type: 'job', job: job('restart_requested') }]);
    expect(upgradeReducer(restarting, { type: 'gave-up', message: 'gone' })).toMatchObject({
      kind: 'lost',
      message: 'gone',
    });
  });
});

describe('stages and facts', () => {
  it.each([
    ['resolving', 'downloading', 'done'],
    ['downloading', 'downloading', 'current'],
    ['probing', 'downloading', 'todo'],
    ['restart_requested', 'done', 'done'],
  ] as const)('%s while %s is %s', (stage, current, status) => {
    expect(stageStatus(stage, current)).toBe(status);
  });

  it('cannot cancel once switching', () => {
    expect(cancellable(job('downloading'))).toBe(true);
    expect(cancellable(job('switching'))).toBe(false);
    expect(cancellable(job('restart_requested'))).toBe(false);
  });

  it('states what, from where and how big', () => {
    expect(consentFacts(PINNED)).toEqual({
      hosts: ['wheels.example.org', 'files.pythonhosted.org'],
      totalBytes: 3 * 1024 ** 3,
      files: [
        { name: 'llama_cpp_python-0.3.36-cp311-linux_x86_64.whl', url: PINNED.artifacts[0].url, size: 2 * 1024 ** 3 },
        { name: 'nvidia_cublas_cu12.whl', url: PINNED.artifacts[1].url, size: 1024 ** 3 },
      ],
    });
    expect(consentFacts({ ...PINNED, download_bytes: null }).totalBytes).toBe(3 * 1024 ** 3);
  });
});
