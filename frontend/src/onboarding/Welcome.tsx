import { useEffect, useRef, useState } from 'react';
import { capabilities as capsApi, models as modelsApi } from '../api/endpoints';
import type { Capabilities, CatalogueEntry } from '../api/types';
import { useApp } from '../app/context';
import { navigate } from '../app/router';
import { displayName } from '../chat/ModelPicker';
import { UpgradeOffer } from '../settings/HardwarePanel';
import { formatBytes } from '../ui/format';
import { writeJson } from '../ui/storage';
import { hardwareWords } from './hardwareWords';
import { isChatModel, useModels } from '../models/useModels';

export const ONBOARDED_KEY = 'hearth.onboarded';
const STEPS = ['Welcome', 'Your hardware', 'Your model', 'Start'] as const;

export function finishOnboarding(): void {
  writeJson(ONBOARDED_KEY, true);
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
        Processor: {caps.hardware.cpu.model ?? 'unknown'} ({caps.hardware.cpu.cores ?? '?'} cores) · Memory{' '}
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

function ModelStep() {
  const { api } = useApp();
  const state = useModels();
  const [starter, setStarter] = useState<CatalogueEntry | null>(null);
  useEffect(() => {
    modelsApi.catalogue(api).then(
      (c) => setStarter(c.models.find((m) => m.kind === 'chat') ?? null),
      () => undefined,
    );
  }, [api]);
  if (!state.ready) return <p role="status">Checking the models folder…</p>;
  const chat = state.models.filter(isChatModel);
  if (chat.length > 0) {
    return (
      <div data-testid="onboarding-model">
        <p className="big-fact">
          Ready: <strong>{displayName(chat[0].id)}</strong>
        </p>
        <p>
          {chat.length === 1 ? 'One chat model is' : `${chat.length} chat models are`} installed. More in Models, any
          time.
        </p>
      </div>
    );
  }
  return (
    <div data-testid="onboarding-model">
      <p className="big-fact">No chat model yet</p>
      <p>
        {starter
          ? `Download ${starter.name}${starter.size ? ` (${formatBytes(starter.size)})` : ''} from the catalogue, or import a GGUF file you have.`
          : 'Import a GGUF file you have, or download one from the catalogue.'}
      </p>
      <a className="btn" href="#/models">
        Open Models
      </a>
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
