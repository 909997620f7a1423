import { useSession } from '@board-bff/client/react';

/** "Live" / "Reconnecting…": text and colour both, so it does not rely on colour alone. */
export function ConnectionIndicator() {
  const { connection } = useSession();
  const [label, tone] =
    connection.status === 'live'
      ? ['Live', 'ok']
      : connection.status === 'reconnecting'
        ? ['Reconnecting…', 'warn']
        : connection.status === 'connecting'
          ? ['Connecting…', 'warn']
          : ['Offline', 'off'];
  return (
    <span className={`indicator ${tone}`} role="status" data-testid="connection" data-state={connection.status}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
