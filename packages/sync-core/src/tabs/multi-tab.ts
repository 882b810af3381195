import { ClientTabs, type ClientTabsParts } from './client-tabs.js';
import { tabHost } from './tab-host.js';
import { TabLink, type TabsOptions } from './tab-link.js';

/**
 * The multi-tab engine, for the client's `tabs` option (see docs/tabs.md). A separate export, so
 * an app that does not use it does not bundle it.
 */
export interface MultiTab {
  /**
   * Links a client to the other tabs of its app. Called once by `createSyncClient`.
   * @internal
   */
  connect(parts: ClientTabsParts): ClientTabs;
}

/**
 * Makes the clients of one app's tabs share one replicating tab: pass it as `tabs` to
 * `createSyncClient` in every tab.
 *
 * @example
 * ```ts
 * const client = createSyncClient({ transport, tabs: multiTab({ name: 'my-app' }) });
 * ```
 */
export function multiTab(options: TabsOptions = {}): MultiTab {
  return {
    connect: (parts) => new ClientTabs(parts, (host) => new TabLink(options, tabHost(host))),
  };
}
