import { useDeadLetters } from '@syncline/react';
import type { DeadLetter } from '@syncline/sync-core';
import { useState } from 'react';
import { writeProblem } from '../write-problem.js';

/** One refused write; a retry the client refuses again (say, still too large) says why here. */
function DeadLetterRow({
  letter,
  retry,
  discard,
}: {
  letter: DeadLetter;
  retry: (mutationId: string) => Promise<void>;
  discard: (mutationId: string) => Promise<void>;
}) {
  const { mutation, code, message } = letter;
  const [problem, setProblem] = useState<string | null>(null);
  const run = (action: (mutationId: string) => Promise<void>) => {
    setProblem(null);
    action(mutation.id).catch((error: unknown) => setProblem(writeProblem(error)));
  };
  return (
    <li data-testid="dead-letter">
      <p>
        {mutation.op} {mutation.collection}/{mutation.recordId}: {message}{' '}
        <span className="muted">({code})</span>
      </p>
      <button type="button" onClick={() => run(retry)}>
        Retry
      </button>
      <button type="button" onClick={() => run(discard)}>
        Discard
      </button>
      {problem !== null && (
        <p className="problem" data-testid="dead-letter-problem">
          {problem}
        </p>
      )}
    </li>
  );
}

/** Writes the server refused for good (already undone here), with retry and discard. */
export function DeadLetters() {
  const { deadLetters, retry, discard } = useDeadLetters();
  if (deadLetters.length === 0) return null;
  return (
    <section className="panel error">
      <h2>Not saved to your account</h2>
      <ul className="list">
        {deadLetters.map((letter) => (
          <DeadLetterRow key={letter.mutation.id} letter={letter} retry={retry} discard={discard} />
        ))}
      </ul>
    </section>
  );
}
