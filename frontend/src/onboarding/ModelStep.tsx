import type { CatalogueEntry } from '../api/types';
import { CatalogueRow } from '../models/ModelsView';
import { FIT_WORDS } from '../models/FitBadge';
import { fileStem, nameOf } from '../models/names';
import { useCatalogue } from '../models/useCatalogue';
import { useModels } from '../models/useModels';
import { formatBytes } from '../ui/format';

/** The recommended catalogue model: why it was picked, its size and fit, and its download. */
function Recommendation({ entry, why, onChanged }: { entry: CatalogueEntry; why: string; onChanged: () => void }) {
  const size = entry.size ? formatBytes(entry.size) : 'size unknown';
  return (
    <div className="recommendation" data-testid="recommended-model">
      <p>
        {why === 'fits' ? 'Recommended for this PC: ' : 'To start with: '}
        <strong>{entry.name}</strong> ({size}
        {entry.fit ? `, ${FIT_WORDS[entry.fit.mode]}` : ''}).
      </p>
      <p className="small">
        {why === 'fits'
          ? 'The largest catalogue model that runs well here.'
          : 'Small enough for any PC. Larger models show whether they fit once their size is known, in Models.'}
      </p>
      {entry.fit && (
        <details className="small">
          <summary>Details</summary>
          <p>{entry.fit.reason}</p>
        </details>
      )}
      {!entry.installed && (
        <ul className="catalogue">
          <CatalogueRow entry={entry} onChanged={onChanged} />
        </ul>
      )}
    </div>
  );
}

/** First run, "Your model": the model chats start with, or the best one to download for this PC. */
export function ModelStep() {
  const state = useModels();
  const catalogue = useCatalogue();
  if (!state.ready) return <p role="status">Checking the models folder…</p>;
  const chat = state.chatModels;
  // Without the backend's pick (an older backend), the first catalogue chat model: the starter.
  const why = catalogue.recommended?.why ?? 'starter';
  const pick =
    catalogue.entries?.find((e) => e.id === catalogue.recommended?.id) ??
    catalogue.entries?.find((e) => e.kind === 'chat');
  if (chat.length > 0) {
    const first = state.defaultModel ?? chat[0].id;
    const name = nameOf(first, state.models);
    // A better fit than what is installed is worth a line, not a step of its own.
    const better = pick && why === 'fits' && !pick.installed ? pick : undefined;
    return (
      <div data-testid="onboarding-model">
        <p className="big-fact">
          Ready: <strong>{name}</strong>
        </p>
        {fileStem(first) !== name && <p className="small">{first}</p>}
        <p>
          {chat.length === 1 ? 'One chat model is' : `${chat.length} chat models are`} installed. More in Models, any
          time.
        </p>
        {better && (
          <p className="small" data-testid="recommended-model">
            Also a good fit for this PC: {better.name}
            {better.size ? ` (${formatBytes(better.size)})` : ''}, in Models.
          </p>
        )}
      </div>
    );
  }
  return (
    <div data-testid="onboarding-model">
      <p className="big-fact">No chat model yet</p>
      {pick ? (
        <Recommendation entry={pick} why={why} onChanged={catalogue.reload} />
      ) : (
        <p>Import a GGUF file you have, or download one from the catalogue.</p>
      )}
      <a className="btn" href="#/models">
        Open Models
      </a>
    </div>
  );
}
