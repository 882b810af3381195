import { useSyncExternalStore } from 'react';
import type { ClaimPrompt } from '../claim-prompt.js';

const NONE = () => null;

/** Asks, on sign-in, whether what was written while signed out joins the user's account. */
export function ClaimDialog({ claims }: { claims: ClaimPrompt }) {
  const open = useSyncExternalStore(claims.subscribe, claims.current, NONE);
  if (open === null) return null;
  const { claim, answer } = open;
  return (
    <div className="overlay">
      <div className="dialog" role="dialog" aria-labelledby="claim-title">
        <h2 id="claim-title">Keep what you wrote while signed out?</h2>
        <p>
          This browser holds {claim.records.length} item{claim.records.length === 1 ? '' : 's'}{' '}
          saved while nobody was signed in. Add {claim.records.length === 1 ? 'it' : 'them'} to{' '}
          <strong>{claim.userId}</strong>'s account, on every device?
        </p>
        <button type="button" onClick={() => answer(true)}>
          Add to my account
        </button>
        <button type="button" onClick={() => answer(false)}>
          Keep on this device only
        </button>
      </div>
    </div>
  );
}
