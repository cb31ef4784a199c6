import { useEffect, useState } from 'react';
import { copyText } from '../chat/Markdown';

/** A text button that copies `text` and says "Copied" for a moment. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={copied ? 'Copied' : label}
      onClick={async () => setCopied(await copyText(text))}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}
