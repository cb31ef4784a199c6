import { useEffect, useState } from 'react';

interface NumberFieldProps {
  id: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  integer?: boolean;
  disabled?: boolean;
  describedBy?: string;
  onChange: (value: number) => void;
}

/** A number box that lets the person type freely and only commits valid, in-range values. */
export function NumberField({ id, value, min, max, step, integer, disabled, describedBy, onChange }: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  // Outside changes show up; the person's own half-typed "0." is left alone.
  useEffect(() => setText((t) => (Number(t) === value && t.trim() !== '' ? t : String(value))), [value]);
  const n = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  return (
    <input
      id={id}
      type="number"
      inputMode={integer ? 'numeric' : 'decimal'}
      min={min}
      max={max}
      step={step ?? (integer ? 1 : 'any')}
      value={text}
      disabled={disabled}
      aria-invalid={!valid}
      aria-describedby={describedBy}
      onChange={(e) => {
        setText(e.target.value);
        const next = Number(e.target.value);
        if (
          e.target.value.trim() !== '' &&
          Number.isFinite(next) &&
          next >= min &&
          next <= max &&
          (!integer || Number.isInteger(next))
        ) {
          onChange(next);
        }
      }}
      onBlur={() => setText(String(value))}
    />
  );
}
