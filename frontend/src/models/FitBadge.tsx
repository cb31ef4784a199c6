import type { ModelFit } from '../api/types';
import { formatBytes } from '../ui/format';

/** The badge words, as LM Studio says them; the numbers sit behind the badge's title. */
export const FIT_WORDS: Record<ModelFit['mode'], string> = {
  full: 'Full GPU offload',
  partial: 'Partial offload',
  cpu: 'CPU',
  too_large: 'Too large for this PC',
};

const TONE: Record<ModelFit['mode'], string> = {
  full: 'badge-good',
  partial: 'badge-accent',
  cpu: '',
  too_large: 'badge-bad',
};

/** The estimate behind a fit, one line each, for a title or a Details list. */
export function fitDetails(fit: ModelFit): string[] {
  const lines = [fit.reason];
  if (fit.layers_on_gpu !== null && fit.n_layers !== null && fit.mode !== 'too_large') {
    lines.push(`Layers on the GPU: ${fit.layers_on_gpu} of ${fit.n_layers}`);
  }
  lines.push(
    `Estimated: ${formatBytes(fit.vram_bytes)} of VRAM, ${formatBytes(fit.ram_bytes)} of RAM` +
      (fit.n_ctx ? ` at ${fit.n_ctx.toLocaleString()} tokens of context` : ''),
  );
  lines.push(
    `This PC: ${fit.free_vram_bytes !== null ? `${formatBytes(fit.free_vram_bytes)} of VRAM free` : 'no GPU offload'}` +
      (fit.ram_total_bytes !== null ? `, ${formatBytes(fit.ram_total_bytes)} of RAM` : '') +
      (fit.ram_available_bytes !== null ? ` (${formatBytes(fit.ram_available_bytes)} free)` : ''),
  );
  if (fit.basis !== 'gguf') {
    lines.push(
      fit.basis === 'catalogue'
        ? 'From the published size and shape; the downloaded file is measured exactly.'
        : 'A rough guess from the download size alone.',
    );
  }
  return lines;
}

export function FitBadge({ fit }: { fit: ModelFit | null | undefined }) {
  if (!fit) return null;
  return (
    <span className={`badge ${TONE[fit.mode]}`.trim()} title={fitDetails(fit).join('\n')} data-testid="fit-badge">
      {FIT_WORDS[fit.mode]}
    </span>
  );
}
