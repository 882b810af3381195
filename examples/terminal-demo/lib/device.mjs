// @ts-check
/** One simulated device: a sync client, its switchable network, and what it prints. */
import { createSyncClient, fieldMerge, memoryStorage } from '@syncline/sync-core';
import { describeTodos, say } from './print.mjs';

/**
 * @typedef {object} Device
 * @property {string} name
 * @property {import('@syncline/sync-core').SyncClient} client
 * @property {import('./network-switch.mjs').NetworkSwitch} network
 * @property {() => Array<{ id: string, data: Record<string, unknown> | null }>} todos the
 *   device's current view of the `todos` collection, sorted by title
 * @property {() => void} showView prints the view
 */

/**
 * @param {{ name: string, transport: import('@syncline/sync-core').SyncTransport,
 *   network: import('./network-switch.mjs').NetworkSwitch }} options
 * @returns {Device}
 */
export function createDevice({ name, transport, network }) {
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    // Edits of different fields of one todo on two devices both survive a conflict.
    collections: { todos: { conflict: fieldMerge() } },
    environment: { online: network.online },
    label: `${name} (terminal demo)`,
  });
  let lastStatus = '';
  client.on('status', (status) => {
    const line = describeStatus(status);
    if (line === lastStatus) return;
    lastStatus = line;
    say(name, `status: ${line}`);
  });
  client.on('rejected', (dead) =>
    say(name, `rejected by the server: ${dead.code} ${dead.message}`),
  );
  const todos = () =>
    client
      .query('todos', { orderBy: 'title' })
      .map((record) => ({ id: record.id, data: record.data }));
  return {
    name,
    client,
    network,
    todos,
    showView: () => say(name, `sees: ${describeTodos(todos())}`),
  };
}

/** @param {import('@syncline/sync-core').SyncStatus} status */
export function describeStatus(status) {
  /** @type {string[]} */
  const parts = [status.state];
  if (status.pending > 0) parts.push(`${status.pending} pending`);
  if (status.conflicts > 0) parts.push(`${status.conflicts} conflicts`);
  if (status.rejected > 0) parts.push(`${status.rejected} rejected`);
  if (status.state === 'error' && status.error) parts.push(status.error.message);
  return parts.join(', ');
}

/**
 * Resolves once `predicate()` holds; rejects after `timeoutMs` saying what it waited for.
 * @param {string} what
 * @param {() => boolean} predicate
 * @param {number} [timeoutMs]
 */
export async function waitUntil(what, predicate, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** @param {Device} device */
export function isSettled(device) {
  const { state, pending } = device.client.status;
  return state === 'synced' && pending === 0;
}
