// Sampling settings for answers, kept with the UI's choices (the same for every conversation).

import type { SamplingParams } from '../api/types';
import { uiPrefs } from '../ui/uiPrefs';

export interface Sampling {
  temperature: number;
  max_tokens: number;
  top_p: number;
  repeat_penalty: number;
}

export const DEFAULT_SAMPLING: Sampling = {
  temperature: 0.7,
  max_tokens: 1024,
  top_p: 0.95,
  repeat_penalty: 1.1,
};

export const LIMITS = {
  temperature: { min: 0, max: 2, step: 0.05 },
  max_tokens: { min: 1, max: 32768, step: 1 },
  top_p: { min: 0.05, max: 1, step: 0.05 },
  repeat_penalty: { min: 0.5, max: 2, step: 0.05 },
} as const;

function clamp(value: unknown, key: keyof Sampling): number {
  const { min, max } = LIMITS[key];
  const n = typeof value === 'number' && Number.isFinite(value) ? value : DEFAULT_SAMPLING[key];
  return Math.min(max, Math.max(min, n));
}

export function loadSampling(): Sampling {
  const saved: Partial<Record<keyof Sampling, unknown>> = uiPrefs.get().sampling ?? {};
  return {
    temperature: clamp(saved.temperature, 'temperature'),
    max_tokens: Math.round(clamp(saved.max_tokens, 'max_tokens')),
    top_p: clamp(saved.top_p, 'top_p'),
    repeat_penalty: clamp(saved.repeat_penalty, 'repeat_penalty'),
  };
}

export function saveSampling(sampling: Sampling): void {
  uiPrefs.set({ sampling: { ...sampling } });
}

export function toParams(sampling: Sampling): SamplingParams {
  return { ...sampling };
}
