import {
  type ChangeRouter,
  createChangeRouter,
  type SyncClient,
  SyncError,
} from '@syncline/sync-core';
import {
  createContext,
  createElement,
  type ReactElement,
  type ReactNode,
  useContext,
  useMemo,
} from 'react';

/** What {@link SyncProvider} hands to the hooks: the client and its change router. */
export interface SyncContextValue {
  /** The client. */
  client: SyncClient;
  /** Routes change events to the hooks that read the changed records. */
  router: ChangeRouter;
}

const SyncContext = createContext<SyncContextValue | null>(null);

/** Props of {@link SyncProvider}. */
export interface SyncProviderProps {
  /**
   * The client the hooks below read and write. Create it once (outside render, or in a
   * `useState` initializer) and call `client.start()` yourself, in an effect or at boot: the
   * provider never starts, stops or reads storage, so it renders the same on the server.
   */
  client: SyncClient;
  /** The app. */
  children?: ReactNode;
}

/**
 * Makes a sync client available to the hooks below it.
 *
 * @example
 * ```tsx
 * const client = createSyncClient({ transport });
 * void client.start();
 * root.render(<SyncProvider client={client}><App /></SyncProvider>);
 * ```
 */
export function SyncProvider({ client, children }: SyncProviderProps): ReactElement {
  const value = useMemo(() => ({ client, router: createChangeRouter(client) }), [client]);
  return createElement(SyncContext.Provider, { value }, children);
}

/** The provider's value. @internal */
export function useSyncContext(): SyncContextValue {
  const value = useContext(SyncContext);
  if (value === null) {
    throw new SyncError('invalid', '@syncline/react: a hook was called outside <SyncProvider>');
  }
  return value;
}

/**
 * The {@link SyncClient} of the nearest {@link SyncProvider}.
 *
 * @throws SyncError `invalid` when there is no provider above
 */
export function useSyncClient(): SyncClient {
  return useSyncContext().client;
}
