import { useDeadLetters } from '@syncline/react';

/** Writes the server refused for good (already undone here), with retry and discard. */
export function DeadLetters() {
  const { deadLetters, retry, discard } = useDeadLetters();
  if (deadLetters.length === 0) return null;
  return (
    <section className="panel error">
      <h2>Not saved to your account</h2>
      <ul className="list">
        {deadLetters.map(({ mutation, code, message }) => (
          <li key={mutation.id} data-testid="dead-letter">
            <p>
              {mutation.op} {mutation.collection}/{mutation.recordId}: {message}{' '}
              <span className="muted">({code})</span>
            </p>
            <button type="button" onClick={() => void retry(mutation.id)}>
              Retry
            </button>
            <button type="button" onClick={() => void discard(mutation.id)}>
              Discard
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
