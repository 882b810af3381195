import type { AppAuth } from '../auth.js';
import type { ClaimPrompt } from '../claim-prompt.js';
import { Account } from './Account.js';
import { ClaimDialog } from './ClaimDialog.js';
import { ConflictPanel } from './ConflictPanel.js';
import { DeadLetters } from './DeadLetters.js';
import { Devices } from './Devices.js';
import { Notes } from './Notes.js';
import { SendFile } from './SendFile.js';
import { StatusBadge } from './StatusBadge.js';
import { TabRoleNote } from './TabRoleNote.js';
import { Todos } from './Todos.js';

/** Props of {@link App}. */
export interface AppProps {
  auth: AppAuth;
  claims: ClaimPrompt;
}

/** The whole app: header (status, account), todos and notes, and the review panels. */
export function App({ auth, claims }: AppProps) {
  return (
    <div className="app">
      <header>
        <h1>syncline notes &amp; todos</h1>
        <StatusBadge />
        <Account auth={auth} />
      </header>
      <TabRoleNote />
      <main>
        <Todos />
        <Notes />
        <aside>
          <ConflictPanel />
          <DeadLetters />
          <Devices />
          <SendFile />
        </aside>
      </main>
      <ClaimDialog claims={claims} />
    </div>
  );
}
