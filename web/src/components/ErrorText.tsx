import { BoardApiError } from '@board-bff/client';

/** A failed call in words a person can act on; `session_revoked` is left to the signed-out notice. */
export function messageOf(error: unknown): string {
  if (!(error instanceof BoardApiError)) return 'Something went wrong. Try again.';
  if (error.code === 'network_error') return 'The board cannot be reached. Check your connection and try again.';
  if (error.code === 'forbidden') return 'Only the author or a moderator may change this.';
  if (error.code === 'not_found') return 'This no longer exists.';
  if (error.status >= 500) return 'The board is having trouble right now. Try again in a moment.';
  if (error.fields) return Object.entries(error.fields).map(([field, problem]) => `${fieldLabel(field)} ${problem}.`).join(' ');
  return error.description;
}

function fieldLabel(field: string): string {
  return ({ title: 'The title', body: 'The text' } as Record<string, string>)[field] ?? field;
}

export function ErrorText({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" id={id}>
      {messageOf(error)}
    </p>
  );
}
