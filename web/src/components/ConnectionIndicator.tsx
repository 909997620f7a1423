import { useSession } from '@board-bff/client/react';

/**
 * "Live" / "Reconnecting…": text and colour both, so it does not rely on colour alone. `data-leader`
 * marks the tab that holds the browser's one stream (tests and curious developers read it).
 */
export function ConnectionIndicator() {
  const { connection, client } = useSession();
  const [label, tone] =
    connection.status === 'live'
      ? ['Live', 'ok']
      : connection.status === 'reconnecting'
        ? ['Reconnecting…', 'warn']
        : connection.status === 'connecting'
          ? ['Connecting…', 'warn']
          : ['Offline', 'off'];
  return (
    <span className={`indicator ${tone}`} role="status" data-testid="connection" data-state={connection.status} data-leader={client.events().isLeader}>
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
