import { formatBytes, formatPercent } from '../ui/format';
import type { Task } from './tasks';
import { isFinished } from './tasks';
import { resultLine, taskFraction, taskLine, taskTitle } from './words';

interface TaskListProps {
  tasks: Task[];
  onCancel: (key: string) => void;
  onClear: () => void;
}

/** Uploads and jobs of one library: progress while they run, then what became of each file. */
export function TaskList({ tasks, onCancel, onClear }: TaskListProps) {
  if (tasks.length === 0) return null;
  const anyFinished = tasks.some(isFinished);
  return (
    <section className="docs-tasks" aria-labelledby="tasks-title">
      <div className="docs-tasks-head">
        <h3 id="tasks-title">Activity</h3>
        {anyFinished && (
          <button type="button" className="btn btn-small btn-ghost" onClick={onClear}>
            Clear finished
          </button>
        )}
      </div>
      <ul className="task-list">
        {tasks.map((task) => (
          <TaskItem key={task.key} task={task} onCancel={() => onCancel(task.key)} />
        ))}
      </ul>
    </section>
  );
}

function TaskItem({ task, onCancel }: { task: Task; onCancel: () => void }) {
  const fraction = taskFraction(task);
  const finished = isFinished(task);
  const bad = task.stage === 'failed' || task.results.some((r) => r.status === 'failed' || r.status === 'skipped');
  const title = taskTitle(task);
  // A job over many files lists what went wrong per file; an upload's one line says it all.
  const problems =
    task.kind === 'upload' ? [] : task.results.filter((r) => r.status === 'failed' || r.status === 'skipped');
  return (
    <li className={`task${bad ? ' task-bad' : ''}`} data-testid="task" data-stage={task.stage}>
      <div className="task-head">
        <strong className="task-title">{title}</strong>
        {task.kind === 'upload' && task.size > 0 && <span className="small">{formatBytes(task.size)}</span>}
        {!finished && (
          <button
            type="button"
            className="btn btn-small"
            disabled={task.cancelRequested}
            onClick={onCancel}
            aria-label={`Cancel ${title}`}
          >
            Cancel
          </button>
        )}
      </div>
      <p className={`task-line${bad ? ' error-text' : ''}`} aria-live="polite">
        {taskLine(task)}
      </p>
      {!finished && (
        <div className="progress-block">
          <progress
            className="progress"
            aria-label={`Progress of ${title}`}
            max={fraction ? fraction.total : undefined}
            value={fraction ? Math.min(fraction.done, fraction.total) : undefined}
          />
          {fraction && task.stage === 'uploading' && (
            <div className="progress-facts">
              <span>
                {formatBytes(fraction.done)} of {formatBytes(fraction.total)} (
                {formatPercent(fraction.done, fraction.total)})
              </span>
            </div>
          )}
        </div>
      )}
      {problems.length > 0 && (
        <ul className="task-problems">
          {problems.map((r) => (
            <li key={r.path}>
              <strong>{r.file}</strong>: {resultLine(r)}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
