import { describe, expect, it } from 'vitest';
import type { CpuBackend } from '../api/types';
import { cpuBackendText } from './HardwarePanel';

const base: CpuBackend = {
  dispatched: true,
  cpu_variant: 'haswell',
  cpu_label: 'AVX2 (haswell)',
  forced: null,
  available: ['x64', 'sse42', 'sandybridge', 'haswell', 'skylakex'],
  backends: ['CPU'],
  error: null,
};

describe('cpuBackendText', () => {
  it('names the variant ggml chose, out of how many', () => {
    expect(cpuBackendText(base)).toBe('AVX2 (haswell), best of 5 for this CPU');
  });

  it('says when a setting forced it', () => {
    const forced = { ...base, cpu_variant: 'x64', cpu_label: 'x86-64 baseline (x64)', forced: 'x64' };
    expect(cpuBackendText(forced)).toBe('x86-64 baseline (x64), forced by HEARTH_CPU_VARIANT');
  });

  it('a forced variant this CPU cannot run falls back to the best, and does not claim to be forced', () => {
    expect(cpuBackendText({ ...base, forced: 'zen4' })).toBe('AVX2 (haswell), best of 5 for this CPU');
  });

  it('a build without variants shows only its label; no runtime shows a dash', () => {
    const fixed = {
      ...base,
      dispatched: false,
      available: [],
      cpu_variant: null,
      cpu_label: 'built for one CPU (AVX2)',
    };
    expect(cpuBackendText(fixed)).toBe('built for one CPU (AVX2)');
    expect(cpuBackendText(null)).toBe('—');
  });
});
