import type { Capabilities, Recommendation, UpgradeJob } from '../api/types';

export const PINNED: Recommendation = {
  upgrade: true,
  code: 'upgrade_available',
  reason: 'The CUDA 12.4 runtime fits NVIDIA GeForce RTX 3060 (compute capability 8.6) with driver 535.183.01.',
  variant: {
    id: 'cuda-12.4',
    kind: 'cuda',
    cuda: '12.4',
    llama_cpp_python: '0.3.36',
    description: 'NVIDIA CUDA 12.4 build.',
  },
  candidate: null,
  download_bytes: 3 * 1024 * 1024 * 1024,
  artifacts: [
    {
      filename: 'llama_cpp_python-0.3.36-cp311-linux_x86_64.whl',
      url: 'https://wheels.example.org/cu124/llama.whl',
      size: 2 * 1024 ** 3,
    },
    { filename: 'nvidia_cublas_cu12.whl', url: 'https://files.pythonhosted.org/packages/cublas.whl', size: 1024 ** 3 },
  ],
};

export const NOT_PINNED: Recommendation = {
  upgrade: false,
  code: 'artifacts_not_pinned',
  reason:
    'The CUDA 12.4 runtime fits this GPU, but its download is not pinned yet (Hearth has no verified checksum for it), so it is not offered. Hearth keeps running on the CPU.',
  variant: null,
  candidate: null,
  download_bytes: null,
  artifacts: [],
};

export function caps(recommendation: Recommendation = NOT_PINNED, gpus = true): Capabilities {
  return {
    hardware: {
      gpu: {
        status: gpus ? 'found' : 'none',
        reason: gpus
          ? '1 NVIDIA GPU: NVIDIA GeForce RTX 3060 (compute capability 8.6)'
          : 'No NVIDIA GPU found: nvidia-smi not found on PATH.',
        source: gpus ? 'nvidia-smi' : null,
        gpus: gpus
          ? [
              {
                index: 0,
                name: 'NVIDIA GeForce RTX 3060',
                uuid: 'GPU-1',
                memory_total_mib: 12288,
                memory_free_mib: 11795,
                compute_capability: '8.6',
              },
            ]
          : [],
        driver_version: gpus ? '535.183.01' : null,
        cuda_driver_version: gpus ? '12.2' : null,
      },
      cpu: {
        model: 'AMD EPYC',
        cores: 8,
        threads: 16,
        flags: { avx: true, avx2: true, avx512: false, fma: true, f16c: true },
      },
      memory: { total_bytes: 32 * 1024 ** 3, available_bytes: 20 * 1024 ** 3 },
      host: { os: 'linux', machine: 'x86_64', platform_tag: 'linux_x86_64', python_tag: 'cp311' },
    },
    detection: { source: 'nvidia-smi', duration_ms: 90, cache: { used: false, reason: 'detected: no cache yet' } },
    runtime: {
      id: 'cpu-bundled',
      kind: 'cpu',
      llama_cpp_version: '0.3.36',
      llama_cpp_path: '/x/llama_cpp/__init__.py',
      supports_gpu_offload: false,
      error: null,
      cpu_backend: {
        dispatched: true,
        cpu_variant: 'haswell',
        cpu_label: 'AVX2 (haswell)',
        forced: null,
        available: ['x64', 'sse42', 'sandybridge', 'haswell'],
        backends: ['CPU'],
        error: null,
      },
      offload: null,
    },
    recommendation,
    upgrade: { pending: null, last_revert: null },
  };
}

export function job(stage: UpgradeJob['stage'], extra: Partial<UpgradeJob> = {}): UpgradeJob {
  return {
    id: 'job1',
    variant: 'cuda-12.4',
    kind: 'cuda',
    state: 'running',
    stage,
    bytes_done: 0,
    bytes_total: null,
    rate: null,
    eta_seconds: null,
    error: null,
    result: null,
    reverted_to_cpu: false,
    started_at: Date.now() / 1000,
    updated_at: Date.now() / 1000,
    ...extra,
  };
}
