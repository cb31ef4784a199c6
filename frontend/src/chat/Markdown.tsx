import { memo, useRef, useState } from 'react';
import type { ComponentProps } from 'react';
import ReactMarkdown from 'react-markdown';
import type { Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import { Icon } from '../ui/Icon';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (plain http in some browsers): fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand?.('copy') ?? false;
    area.remove();
    return ok;
  }
}

export function CopyButton({ text, label }: { text: () => string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="icon-btn copy-btn"
      aria-label={copied ? 'Copied' : label}
      title={copied ? 'Copied' : label}
      onClick={async () => {
        if (await copyText(text())) {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        }
      }}
    >
      <Icon name={copied ? 'check' : 'copy'} size={16} />
    </button>
  );
}

function CodeBlock(props: ComponentProps<'pre'>) {
  const ref = useRef<HTMLPreElement>(null);
  const { children, node: _node, ...rest } = props as ComponentProps<'pre'> & { node?: unknown };
  const language = languageOf(children);
  return (
    <div className="code-block">
      <div className="code-head">
        <span className="code-lang">{language ?? 'code'}</span>
        <CopyButton label="Copy code" text={() => (ref.current?.textContent ?? '').replace(/\n$/, '')} />
      </div>
      <pre ref={ref} {...rest}>
        {children}
      </pre>
    </div>
  );
}

function languageOf(children: unknown): string | null {
  const child = Array.isArray(children) ? children[0] : children;
  const className: unknown = (child as { props?: { className?: unknown } })?.props?.className;
  const match = typeof className === 'string' ? /language-([\w+-]+)/.exec(className) : null;
  return match ? match[1] : null;
}

const components: Components = {
  pre: CodeBlock,
  // Nothing in an answer may make the app fetch from the network: images become links.
  img: ({ src, alt }) => (
    <a href={typeof src === 'string' ? src : undefined} target="_blank" rel="noreferrer noopener">
      {alt || 'image'}
    </a>
  ),
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
};

const remarkPlugins = [remarkGfm];
const rehypePlugins = [[rehypeHighlight, { detect: false }]] as ComponentProps<typeof ReactMarkdown>['rehypePlugins'];

/** An answer as Markdown: GitHub tables and lists, highlighted code with a copy button. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
