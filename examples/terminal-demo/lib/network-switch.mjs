// @ts-check
/**
 * A device's network, switchable by the demo: the online source the client is given (so its
 * status says `offline`) and a gate that fails every request while the device is "offline",
 * the way a real network failure would.
 */

/**
 * @typedef {object} NetworkSwitch
 * @property {import('@syncline/sync-core').OnlineSource} online what the client is told
 * @property {() => boolean} isOnline
 * @property {(online: boolean) => void} set turns the network on or off
 * @property {typeof globalThis.fetch} fetch a `fetch` that fails while offline
 */

/**
 * @param {{ name: string, debug?: boolean }} options `debug` logs every request
 * @returns {NetworkSwitch}
 */
export function createNetworkSwitch({ name, debug = false }) {
  let online = true;
  /** @type {Set<(online: boolean) => void>} */
  const listeners = new Set();
  return {
    online: {
      isOnline: () => online,
      subscribe(listener) {
        listeners.add(listener);
        return () => {
          listeners.delete(listener);
        };
      },
    },
    isOnline: () => online,
    set(next) {
      if (next === online) return;
      online = next;
      for (const listener of [...listeners]) listener(online);
    },
    fetch: (input, init) => {
      if (!online) return Promise.reject(new TypeError('fetch failed: the device is offline'));
      if (!debug) return globalThis.fetch(input, init);
      const what = `${init?.method ?? 'GET'} ${String(input)}`;
      console.log(`${name.padEnd(7)} -> ${what}`);
      return globalThis.fetch(input, init).then((response) => {
        console.log(`${name.padEnd(7)} <- ${response.status} ${what}`);
        return response;
      });
    },
  };
}
