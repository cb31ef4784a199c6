import { useState } from 'react';

interface Props {
  value: string | null;
  onSave: (prompt: string | null) => Promise<void> | void;
  onClose: () => void;
}

/** This conversation's own system prompt; empty means the app's default one. */
export function SystemPromptPanel({ value, onSave, onClose }: Props) {
  const [text, setText] = useState(value ?? '');
  const [state, setState] = useState<'idle' | 'saving' | 'saved' | string>('idle');

  async function save(prompt: string | null) {
    setState('saving');
    try {
      await onSave(prompt);
      setState('saved');
    } catch (err) {
      setState((err as Error).message);
    }
  }

  return (
    <div id="system-panel" className="side-panel" role="region" aria-label="System prompt">
      <label htmlFor="system-prompt">System prompt for this conversation</label>
      <textarea
        id="system-prompt"
        rows={4}
        value={text}
        placeholder="Empty: Hearth's default (“You are a helpful assistant.”)"
        onChange={(e) => {
          setText(e.target.value);
          setState('idle');
        }}
      />
      <div className="panel-actions">
        <span className="panel-status" aria-live="polite">
          {state === 'saving'
            ? 'Saving…'
            : state === 'saved'
              ? 'Saved; used from the next answer.'
              : state === 'idle'
                ? ''
                : state}
        </span>
        <button type="button" className="btn" onClick={() => void save(null).then(() => setText(''))} disabled={!value}>
          Use default
        </button>
        <button type="button" className="btn btn-primary" onClick={() => void save(text.trim() ? text : null)}>
          Save
        </button>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
