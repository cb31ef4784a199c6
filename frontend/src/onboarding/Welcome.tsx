import { useEffect, useRef, useState } from 'react';
import { capabilities as capsApi } from '../api/endpoints';
import type { Capabilities } from '../api/types';
import { useApp } from '../app/context';
import { navigate } from '../app/router';
import { UpgradeOffer } from '../settings/HardwarePanel';
import { formatBytes, plural } from '../ui/format';
import { uiPrefs } from '../ui/uiPrefs';
import { hardwareWords } from './hardwareWords';
import { ModelStep } from './ModelStep';

const STEPS = ['Welcome', 'Your hardware', 'Your model', 'Start'] as const;

/** Kept by the backend (ui/uiPrefs.ts): a web-mode relaunch on a new port must not ask again. */
export function finishOnboarding(): void {
  uiPrefs.set({ onboarded: true });
}

function HardwareStep({ caps, error }: { caps: Capabilities | null; error: string | null }) {
  if (error) {
    return (
      <p className="inline-error" role="alert">
        Could not detect the hardware: {error}
      </p>
    );
  }
  if (!caps) return <p role="status">Looking at this computer…</p>;
  const gpu = caps.hardware.gpu;
  const found = gpu.gpus.length > 0;
  const words = hardwareWords(caps);
  return (
    <div data-testid="onboarding-hardware">
      <p className="big-fact">
        {found ? (
          <>
            GPU: <strong>{gpu.gpus.map((g) => g.name).join(', ')}</strong>
          </>
        ) : (
          <>
            Hearth will use the <strong>CPU</strong>
          </>
        )}
      </p>
      <p>{words.plain}</p>
      <p className="small">
        Processor: {caps.hardware.cpu.model ?? 'unknown'} (
        {caps.hardware.cpu.cores !== null ? plural(caps.hardware.cpu.cores, 'core') : '? cores'}) · Memory{' '}
        {formatBytes(caps.hardware.memory.total_bytes)}
      </p>
      <details className="small" data-testid="hardware-details">
        <summary>Details</summary>
        {words.details.map((line) => (
          <p key={line}>{line}</p>
        ))}
      </details>
      {(caps.recommendation.upgrade || caps.recommendation.reason !== gpu.reason) && (
        <UpgradeOffer caps={caps} compact />
      )}
      {caps.recommendation.upgrade && <p className="small">Optional: Hearth works on the CPU as it is.</p>}
    </div>
  );
}

/** First run: welcome, the detected hardware (and an optional GPU upgrade), the model, a chat. */
export function Welcome() {
  const { api } = useApp();
  const [step, setStep] = useState(0);
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [capsError, setCapsError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    capsApi.get(api).then(setCaps, (err: Error) => setCapsError(err.message));
  }, [api]);
  useEffect(() => heading.current?.focus(), [step]);

  function done() {
    finishOnboarding();
    navigate({ name: 'chat', id: null }, true);
  }

  return (
    <section className="welcome" aria-labelledby="welcome-title">
      <ol className="steps" aria-label="Setup steps">
        {STEPS.map((label, i) => (
          <li
            key={label}
            className={i === step ? 'current' : i < step ? 'done' : ''}
            aria-current={i === step ? 'step' : undefined}
          >
            {label}
          </li>
        ))}
      </ol>
      <div className="welcome-card">
        <h1 id="welcome-title" ref={heading} tabIndex={-1}>
          {step === 0 ? 'Welcome to Hearth' : STEPS[step]}
        </h1>
        {step === 0 && (
          <>
            <p className="lead">Private chat with a language model that runs on this computer.</p>
            <p>Nothing you type leaves this machine. No account, no internet needed once a model is installed.</p>
          </>
        )}
        {step === 1 && <HardwareStep caps={caps} error={capsError} />}
        {step === 2 && <ModelStep />}
        {step === 3 && (
          <>
            <p className="lead">All set.</p>
            <p>
              Press <kbd>Enter</kbd> to send and <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line. <kbd>Esc</kbd> stops
              an answer. Settings shows the hardware and runtime at any time.
            </p>
          </>
        )}
        <div className="welcome-actions">
          <button type="button" className="btn btn-ghost" onClick={done}>
            Skip setup
          </button>
          {step > 0 && (
            <button type="button" className="btn" onClick={() => setStep(step - 1)}>
              Back
            </button>
          )}
          {step < STEPS.length - 1 ? (
            <button type="button" className="btn btn-primary" onClick={() => setStep(step + 1)}>
              {step === 0 ? 'Get started' : 'Next'}
            </button>
          ) : (
            <button type="button" className="btn btn-primary" onClick={done}>
              Start chatting
            </button>
          )}
        </div>
      </div>
    </section>
  );
}
