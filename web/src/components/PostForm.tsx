import { useId, useState, type FormEvent } from 'react';
import { ErrorText } from './ErrorText.js';
import { FormButtons } from './FormButtons.js';

/** New post or edit: labelled fields, limits stated, the API's own validation shown next to them. */
export function PostForm(props: {
  initial?: { title: string; body: string };
  submitLabel: string;
  onSubmit(input: { title: string; body: string }): Promise<void>;
  onCancel?(): void;
}) {
  const id = useId();
  const [title, setTitle] = useState(props.initial?.title ?? '');
  const [body, setBody] = useState(props.initial?.body ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await props.onSubmit({ title, body });
      setError(null);
      if (!props.initial) {
        setTitle('');
        setBody('');
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-describedby={error ? `${id}-error` : undefined}>
      <label htmlFor={`${id}-title`}>Title</label>
      <input id={`${id}-title`} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required />
      <label htmlFor={`${id}-body`}>Text</label>
      <textarea id={`${id}-body`} value={body} onChange={(e) => setBody(e.target.value)} rows={4} maxLength={20000} required />
      <ErrorText error={error} id={`${id}-error`} />
      <FormButtons submitLabel={props.submitLabel} busy={busy} onCancel={props.onCancel} />
    </form>
  );
}
