import { useSessions, useSyncStatus } from '@syncline/react';

/** The signed-in user's devices (sessions), with "sign out this device" for each other one. */
export function Devices() {
  const { userId } = useSyncStatus();
  const { current, sessions, revoke } = useSessions();
  if (userId === null) return null;
  const active = sessions?.filter((session) => session.active) ?? null;
  return (
    <section className="panel" data-testid="devices">
      <h2>Your devices</h2>
      {active === null ? (
        <p className="muted">Listing your devices…</p>
      ) : (
        <ul className="list">
          {active.map((session) => {
            const here = session.sessionId === current?.sessionId;
            return (
              <li key={session.sessionId} data-testid="device" data-current={here}>
                <span>
                  {session.label ?? 'A device'}{' '}
                  <span className="muted">
                    {session.sessionId.slice(0, 8)}
                    {here
                      ? ' · this device'
                      : ` · seen ${new Date(session.lastSeenAt).toLocaleTimeString()}`}
                  </span>
                </span>
                {!here && (
                  <button type="button" onClick={() => void revoke(session.sessionId)}>
                    Sign out this device
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
