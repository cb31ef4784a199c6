// The first-run hardware step in plain words; what detection reported (probe names, library
// files) goes behind a "Details" disclosure for whoever wants it. Pure.

import type { Capabilities } from '../api/types';

export interface HardwareWords {
  plain: string;
  details: string[];
}

/** The runtime as a person would say it: "the built-in CPU runtime", not "cpu-bundled". */
export function runtimeName(runtime: Capabilities['runtime']): string {
  if (runtime.kind === 'cpu') return runtime.id === 'cpu-bundled' ? 'the built-in CPU runtime' : 'a CPU runtime';
  return `the ${runtime.kind.toUpperCase()} runtime`;
}

export function hardwareWords(caps: Capabilities): HardwareWords {
  const gpu = caps.hardware.gpu;
  const details = [gpu.reason, `Runtime: ${runtimeName(caps.runtime)} (${caps.runtime.id}).`].filter(Boolean);
  if (gpu.gpus.length > 0) {
    return { plain: 'Hearth can use this graphics card to answer faster.', details };
  }
  if (gpu.status === 'none') {
    return {
      plain:
        'No NVIDIA graphics card was found, so Hearth runs models on the processor. Everything works; ' +
        'answers come more slowly than on a graphics card.',
      details,
    };
  }
  return {
    plain:
      'Hearth could not check for a graphics card just now, so it runs models on the processor. ' +
      'Settings → Hardware can check again.',
    details,
  };
}
