/**
 * One tab of the app at a time opens the sync client: the first tab takes a Web Lock and keeps it
 * until it closes (or crashes: the browser releases a dead tab's locks), and the next waiting tab
 * takes over. Two clients on one IndexedDB database would each push the same outbox, so a
 * browser without Web Locks runs the client in every tab only after a warning in the console.
 *
 * This is the example app's guard, not the multi-tab engine the design asks for (followers that
 * read live and write through the leader): see the README.
 */
export function runWhenLeader(name: string, lead: () => Promise<void>): void {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks === undefined) {
    console.warn('Web Locks are missing: every tab runs its own sync client');
    void lead();
    return;
  }
  void locks.request(name, async () => {
    await lead();
    // Held for the tab's lifetime.
    await new Promise<never>(() => {});
  });
}
