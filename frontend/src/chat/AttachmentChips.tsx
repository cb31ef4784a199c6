import type { DocDocument } from '../api/types';
import type { Task } from '../documents/tasks';
import { isFinished } from '../documents/tasks';
import { documentLine, taskFraction, taskLine } from '../documents/words';
import { Icon } from '../ui/Icon';

interface Props {
  tasks: Task[];
  stored: DocDocument[];
  onCancel: (key: string) => void;
  onRemove: (item: { task?: Task; document?: DocDocument }) => void;
}

const bad = (task: Task) =>
  task.stage === 'failed' || task.results.some((r) => r.status === 'failed' || r.status === 'skipped');

/** The files attached in this chat, above the composer: progress while they are read, then
 *  what became of each (the Documents page's words), a bad one with its reason. */
export function AttachmentChips({ tasks, stored, onCancel, onRemove }: Props) {
  if (tasks.length === 0 && stored.length === 0) return null;
  return (
    <ul className="attachments" aria-label="Files in this chat">
      {stored.map((doc) => (
        <li
          key={doc.id}
          className={`attachment${doc.status === 'failed' ? ' attachment-bad' : ''}`}
          data-testid="attachment"
          data-stage={doc.status === 'pending' ? 'running' : 'done'}
        >
          <Icon name="documents" size={14} />
          <span className="attachment-name">{doc.name}</span>
          <span className="attachment-line">{documentLine(doc)}</span>
          <RemoveButton name={doc.name} onClick={() => onRemove({ document: doc })} />
        </li>
      ))}
      {tasks.map((task) => {
        const finished = isFinished(task);
        const fraction = taskFraction(task);
        const name = task.name ?? 'Files';
        return (
          <li
            key={task.key}
            className={`attachment${bad(task) ? ' attachment-bad' : ''}`}
            data-testid="attachment"
            data-stage={task.stage}
          >
            <Icon name="documents" size={14} />
            <span className="attachment-name">{name}</span>
            <span className="attachment-line" aria-live="polite">
              {taskLine(task)}
            </span>
            {!finished && (
              <progress
                className="progress attachment-progress"
                aria-label={`Progress of ${name}`}
                max={fraction ? fraction.total : undefined}
                value={fraction ? Math.min(fraction.done, fraction.total) : undefined}
              />
            )}
            {finished ? (
              <RemoveButton name={name} onClick={() => onRemove({ task })} />
            ) : (
              <button
                type="button"
                className="attachment-x"
                disabled={task.cancelRequested}
                aria-label={`Cancel ${name}`}
                title="Cancel"
                onClick={() => onCancel(task.key)}
              >
                <Icon name="close" size={12} />
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function RemoveButton({ name, onClick }: { name: string; onClick: () => void }) {
  return (
    <button
      type="button"
      className="attachment-x"
      aria-label={`Remove ${name} from this chat`}
      title="Remove from this chat"
      onClick={onClick}
    >
      <Icon name="close" size={12} />
    </button>
  );
}
