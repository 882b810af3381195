import { useConflicts } from '@syncline/react';
import type { Json, ParkedConflict } from '@syncline/sync-core';

function Version({ label, data }: { label: string; data: Readonly<Record<string, Json>> | null }) {
  return (
    <div className="version">
      <h4>{label}</h4>
      {data === null ? (
        <p className="muted">(deleted)</p>
      ) : (
        <dl>
          {Object.entries(data)
            .filter(([field]) => field !== 'updatedAt')
            .sort(([x], [y]) => (x < y ? 1 : x > y ? -1 : 0))
            .map(([field, value]) => (
              <div key={field}>
                <dt>{field}</dt>
                <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
              </div>
            ))}
        </dl>
      )}
    </div>
  );
}

function ConflictCard({ conflict }: { conflict: ParkedConflict }) {
  const { resolve } = useConflicts();
  const theirs = conflict.server?.deleted === false ? conflict.server.data : null;
  return (
    <li className="conflict" data-testid="conflict">
      <p>
        <strong>{conflict.collection}</strong> was changed on another device while this one edited
        it.
      </p>
      <div className="versions">
        <Version label="This device" data={conflict.local} />
        <Version label="Other device" data={theirs} />
      </div>
      <button
        type="button"
        onClick={() => void resolve(conflict.mutationId, { action: 'write', data: conflict.local })}
      >
        Keep this device's
      </button>
      <button type="button" onClick={() => void resolve(conflict.mutationId, { action: 'server' })}>
        Keep other device's
      </button>
    </li>
  );
}

/** Conflicts parked for the user (notes), both versions side by side. */
export function ConflictPanel() {
  const { conflicts } = useConflicts();
  if (conflicts.length === 0) return null;
  return (
    <section className="panel warn">
      <h2>Conflicts</h2>
      <ul className="list">
        {conflicts.map((conflict) => (
          <ConflictCard key={conflict.mutationId} conflict={conflict} />
        ))}
      </ul>
    </section>
  );
}
