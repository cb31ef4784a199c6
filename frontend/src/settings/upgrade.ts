// The "Upgrade to GPU" flow as a pure state machine: consent, progress, restart, result.
// UpgradeFlow.tsx drives it with the backend's job snapshots (/tmp contract: hearth/api/admin.py).

import type { Recommendation, UpgradeJob, UpgradeStage } from '../api/types';

export type UpgradeSource = { kind: 'registry'; recommendation: Recommendation } | { kind: 'pack'; file: File };

export type UpgradePhase =
  | { kind: 'closed' }
  | { kind: 'consent'; source: UpgradeSource }
  | { kind: 'starting'; source: UpgradeSource; uploaded?: number; total?: number }
  | { kind: 'running'; job: UpgradeJob }
  | { kind: 'cancelling'; job: UpgradeJob }
  | { kind: 'restarting'; job: UpgradeJob | null; backendDown: boolean }
  | { kind: 'result'; job: UpgradeJob }
  | { kind: 'start-failed'; source: UpgradeSource; message: string }
  | { kind: 'lost'; job: UpgradeJob | null; message: string };

export type UpgradeAction =
  | { type: 'open'; source: UpgradeSource }
  | { type: 'close' }
  | { type: 'start' }
  | { type: 'uploading'; loaded: number; total: number }
  | { type: 'start-failed'; message: string }
  | { type: 'job'; job: UpgradeJob }
  | { type: 'cancel' }
  | { type: 'connection-lost' }
  | { type: 'backend-down' }
  | { type: 'gave-up'; message: string };

export const STAGES: { stage: UpgradeStage; label: string }[] = [
  { stage: 'resolving', label: 'Choosing the runtime' },
  { stage: 'checking_disk', label: 'Checking disk space' },
  { stage: 'downloading', label: 'Downloading' },
  { stage: 'verifying', label: 'Verifying checksums' },
  { stage: 'unpacking', label: 'Unpacking' },
  { stage: 'probing', label: 'Testing the new runtime' },
  { stage: 'switching', label: 'Switching runtime' },
  { stage: 'restart_requested', label: 'Restarting Hearth' },
];

export function stageLabel(stage: UpgradeStage): string {
  return STAGES.find((s) => s.stage === stage)?.label ?? stage.replace(/_/g, ' ');
}

/** Where a stage sits in the list: done, current or still to come. */
export function stageStatus(stage: UpgradeStage, current: UpgradeStage): 'done' | 'current' | 'todo' {
  const order = STAGES.map((s) => s.stage);
  const at = order.indexOf(current);
  const here = order.indexOf(stage);
  if (at < 0) return current === 'done' ? 'done' : 'todo';
  return here < at ? 'done' : here === at ? 'current' : 'todo';
}

/** Stages after which cancelling no longer makes sense: the switch is being made. */
export function cancellable(job: UpgradeJob): boolean {
  return job.state === 'running' && !['switching', 'restart_requested'].includes(job.stage);
}

export function isTerminal(job: UpgradeJob): boolean {
  return job.state !== 'running';
}

export function upgradeReducer(phase: UpgradePhase, action: UpgradeAction): UpgradePhase {
  switch (action.type) {
    case 'open':
      // A running upgrade is never replaced by a new consent dialog.
      if (phase.kind === 'running' || phase.kind === 'restarting' || phase.kind === 'starting') return phase;
      return { kind: 'consent', source: action.source };
    case 'close':
      if (
        phase.kind === 'running' ||
        phase.kind === 'restarting' ||
        phase.kind === 'starting' ||
        phase.kind === 'cancelling'
      ) {
        return phase;
      }
      return { kind: 'closed' };
    case 'start':
      return phase.kind === 'consent' || phase.kind === 'start-failed'
        ? { kind: 'starting', source: phase.source }
        : phase;
    case 'uploading':
      return phase.kind === 'starting' ? { ...phase, uploaded: action.loaded, total: action.total } : phase;
    case 'start-failed':
      return phase.kind === 'starting'
        ? { kind: 'start-failed', source: phase.source, message: action.message }
        : phase;
    case 'job': {
      const { job } = action;
      if (isTerminal(job)) return { kind: 'result', job };
      if (job.stage === 'restart_requested') {
        return { kind: 'restarting', job, backendDown: phase.kind === 'restarting' && phase.backendDown };
      }
      if (phase.kind === 'cancelling') return { kind: 'cancelling', job };
      return { kind: 'running', job };
    }
    case 'cancel':
      return phase.kind === 'running' ? { kind: 'cancelling', job: phase.job } : phase;
    case 'connection-lost':
      // The event stream broke: while switching that is the restart itself.
      if (phase.kind === 'running' || phase.kind === 'cancelling') {
        return { kind: 'restarting', job: phase.job, backendDown: false };
      }
      return phase;
    case 'backend-down':
      return phase.kind === 'restarting' ? { ...phase, backendDown: true } : phase;
    case 'gave-up':
      return phase.kind === 'restarting' || phase.kind === 'running'
        ? { kind: 'lost', job: phase.job, message: action.message }
        : phase;
  }
}

/** The facts the consent dialog states: what, from where, how big. */
export function consentFacts(recommendation: Recommendation): {
  hosts: string[];
  totalBytes: number | null;
  files: { name: string; url: string; size: number | null }[];
} {
  const files = recommendation.artifacts.map((a) => ({
    name: a.filename ?? a.name ?? a.url.split('/').pop() ?? a.url,
    url: a.url,
    size: a.size ?? null,
  }));
  const hosts = [...new Set(files.map((f) => hostOf(f.url)))];
  const sizes = files.map((f) => f.size);
  const totalBytes =
    recommendation.download_bytes ??
    (sizes.every((s) => s !== null) ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0) : null);
  return { hosts, totalBytes, files };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
