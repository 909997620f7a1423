import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';

export interface Toast {
  id: string;
  title: string;
  body: string;
  action?: { label: string; run(): void };
}

const ToastContext = createContext<(toast: Toast) => void>(() => undefined);

/** Polite live region: screen readers announce a toast without moving focus; each stays 8 s or until closed. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: string) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (toast: Toast) => {
      setToasts((all) => (all.some((t) => t.id === toast.id) ? all : [...all.slice(-3), toast]));
      setTimeout(() => dismiss(toast.id), 8000);
    },
    [dismiss],
  );
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((toast) => (
          <div className="toast" key={toast.id} data-testid="toast">
            <div>
              <strong>{toast.title}</strong>
              <p>{toast.body}</p>
            </div>
            <div className="toast-actions">
              {toast.action && (
                <button
                  type="button"
                  onClick={() => {
                    toast.action!.run();
                    dismiss(toast.id);
                  }}
                >
                  {toast.action.label}
                </button>
              )}
              <button type="button" className="quiet" aria-label="Dismiss notification" onClick={() => dismiss(toast.id)}>
                ×
              </button>
            </div>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): (toast: Toast) => void {
  return useContext(ToastContext);
}
