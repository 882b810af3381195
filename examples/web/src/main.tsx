/**
 * The example app's entry: one sync client per tab, over the reference server's HTTP protocol,
 * with IndexedDB storage; with `tabs`, one tab of this browser replicates and the others mirror
 * it live and write through it. Todos resolve conflicts last-writer-wins;
 * notes are set to manual resolution, so a real conflict shows both versions side by side.
 */
import { restTransport } from '@syncline/adapter-rest';
import { restTargeting } from '@syncline/adapter-rest/targeting';
import { SyncProvider } from '@syncline/react';
import { createSyncClient, lww, manual, multiTab } from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createAppAuth } from './auth.js';
import { createClaimPrompt } from './claim-prompt.js';
import { App } from './components/App.js';

const baseUrl = window.location.origin;
const auth = createAppAuth(baseUrl);
const claims = createClaimPrompt();
const client = createSyncClient({
  transport: restTransport({
    baseUrl,
    getToken: auth.getToken,
    session: auth.session,
    targeting: restTargeting(),
  }),
  // Devices, "sign out this device" and files sent to the user's other devices.
  targeting: sessionTargeting(),
  collections: { todos: { conflict: lww() }, notes: { conflict: manual() } },
  claimLocalData: (claim) => claims.ask(claim),
  label: navigator.userAgent.includes('Chrome') ? 'Chrome' : 'Browser',
  tabs: multiTab({ name: 'syncline-example' }),
});

const root = createRoot(document.getElementById('root') as HTMLElement);
root.render(
  <StrictMode>
    <SyncProvider client={client}>
      <App auth={auth} claims={claims} />
    </SyncProvider>
  </StrictMode>,
);
void client.start();
