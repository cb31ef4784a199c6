import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';

export interface ToastAction {
  label: string;
  run: () => void;
}

interface Toast {
  id: number;
  message: string;
  action?: ToastAction;
  tone: 'info' | 'error';
}

interface ToastApi {
  show: (message: string, options?: { action?: ToastAction; timeoutMs?: number; tone?: Toast['tone'] }) => () => void;
}

const ToastContext = createContext<ToastApi>({ show: () => () => undefined });

export function useToasts(): ToastApi {
  return useContext(ToastContext);
}

/** Short notices in a polite live region; an optional action (e.g. Undo) is a real button. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);

  const show = useCallback<ToastApi['show']>(
    (message, options = {}) => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-3), { id, message, action: options.action, tone: options.tone ?? 'info' }]);
      const timer = setTimeout(() => dismiss(id), options.timeoutMs ?? 5000);
      return () => {
        clearTimeout(timer);
        dismiss(id);
      };
    },
    [dismiss],
  );

  const api = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div key={toast.id} className={`toast toast-${toast.tone}`}>
            <span>{toast.message}</span>
            {toast.action && (
              <button
                type="button"
                className="btn btn-small"
                onClick={() => {
                  toast.action?.run();
                  dismiss(toast.id);
                }}
              >
                {toast.action.label}
              </button>
            )}
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
