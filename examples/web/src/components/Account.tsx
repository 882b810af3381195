import { useSyncStatus } from '@syncline/react';
import { type FormEvent, useState } from 'react';
import type { AppAuth } from '../auth.js';

/** Sign in (the reference server's development sign-in) and "sign out this device". */
export function Account({ auth }: { auth: AppAuth }) {
  const { userId } = useSyncStatus();
  const [name, setName] = useState('alice');
  const [problem, setProblem] = useState<string | null>(null);
  const signIn = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    auth.signIn(name.trim()).catch((error: unknown) => setProblem(String(error)));
  };
  if (userId !== null) {
    return (
      <div className="account">
        <span data-testid="signed-in-as">Signed in as {userId}</span>
        <button type="button" onClick={() => auth.signOut()}>
          Sign out this device
        </button>
      </div>
    );
  }
  return (
    <form className="account" onSubmit={signIn}>
      <input aria-label="user id" value={name} onChange={(e) => setName(e.target.value)} />
      <button type="submit">Sign in</button>
      {problem !== null && <span className="problem">{problem}</span>}
    </form>
  );
}
