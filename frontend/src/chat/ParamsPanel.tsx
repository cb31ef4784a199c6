import { NumberField } from '../ui/NumberField';
import { LIMITS } from './params';
import type { Sampling } from './params';

interface Props {
  value: Sampling;
  onChange: (next: Sampling) => void;
  onClose: () => void;
}

const FIELDS: { key: keyof Sampling; label: string; hint: string }[] = [
  { key: 'temperature', label: 'Temperature', hint: '0 = always the likeliest word; higher = more varied' },
  { key: 'max_tokens', label: 'Max tokens', hint: 'Longest answer, in tokens' },
  { key: 'top_p', label: 'Top P', hint: 'Sample only from the most likely words adding up to this share' },
  { key: 'repeat_penalty', label: 'Repeat penalty', hint: 'Above 1 discourages repeating itself' },
];

/** Sampling settings for the next answers, in a grid of equal boxes (kept with the UI's choices,
 *  by the backend). */
export function ParamsPanel({ value, onChange, onClose }: Props) {
  return (
    <div id="params-panel" className="side-panel params" role="region" aria-label="Parameters">
      <div className="params-grid">
        {FIELDS.map(({ key, label, hint }) => {
          const limits = LIMITS[key];
          return (
            <div className="field" key={key}>
              <label htmlFor={`param-${key}`}>{label}</label>
              <NumberField
                id={`param-${key}`}
                min={limits.min}
                max={limits.max}
                step={limits.step}
                integer={key === 'max_tokens'}
                value={value[key]}
                describedBy={`param-${key}-hint`}
                onChange={(n) => onChange({ ...value, [key]: n })}
              />
              <small id={`param-${key}-hint`}>{hint}</small>
            </div>
          );
        })}
      </div>
      <div className="panel-actions">
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
