import { describe, expect, it } from 'vitest';
import { caps as capabilities } from '../test/capabilities';
import { hardwareWords, runtimeName } from './hardwareWords';

describe('hardwareWords', () => {
  it('says "no graphics card" in plain words and keeps the probes for Details', () => {
    const caps = capabilities(undefined, false);
    caps.hardware.gpu = {
      ...caps.hardware.gpu,
      reason: 'No NVIDIA GPU found: NVML library not found (libnvidia-ml.so.1); nvidia-smi not found on PATH.',
    };
    const words = hardwareWords(caps);
    expect(words.plain).toMatch(/^No NVIDIA graphics card was found, so Hearth runs models on the processor/);
    expect(words.plain).not.toMatch(/NVML|nvidia-smi|libnvidia/);
    expect(words.details[0]).toContain('libnvidia-ml.so.1');
    expect(words.details[1]).toBe('Runtime: the built-in CPU runtime (cpu-bundled).');
  });

  it('says a failed check is a failed check, not a missing card', () => {
    const caps = capabilities();
    caps.hardware.gpu = { ...caps.hardware.gpu, status: 'error', gpus: [], reason: 'nvidia-smi timed out after 5 s' };
    expect(hardwareWords(caps).plain).toMatch(/could not check for a graphics card/);
  });

  it('names runtimes as a person would', () => {
    const caps = capabilities();
    expect(runtimeName(caps.runtime)).toBe('the built-in CPU runtime');
    expect(runtimeName({ ...caps.runtime, id: 'cuda-12.4', kind: 'cuda' })).toBe('the CUDA runtime');
  });
});
