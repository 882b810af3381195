// @ts-check
/**
 * A device's network, switchable by the demo: the online source the client is given (so its
 * status says `offline`) and a gate that fails every request while the device is "offline",
 * the way a real network failure would. Going offline also cuts the connections already open
 * (the event stream), so an offline device hears nothing until it reconnects.
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
  /** Requests (and response bodies) in flight, cut when the network goes off. */
  /** @type {Set<AbortController>} */
  const open = new Set();
  /** @type {typeof globalThis.fetch} */
  const send = (input, init) => {
    const controller = new AbortController();
    const callerSignal = init?.signal;
    if (callerSignal?.aborted) controller.abort(callerSignal.reason);
    callerSignal?.addEventListener('abort', () => controller.abort(callerSignal.reason), {
      once: true,
    });
    open.add(controller);
    const forget = () => open.delete(controller);
    return globalThis.fetch(input, { ...init, signal: controller.signal }).then(
      (response) => {
        if (response.body === null) {
          forget();
          return response;
        }
        // The controller stays registered until the body ends: a stream is cut by going offline.
        const reader = response.body.getReader();
        const body = new ReadableStream({
          async pull(stream) {
            try {
              const { done, value } = await reader.read();
              if (done) {
                forget();
                stream.close();
              } else stream.enqueue(value);
            } catch (error) {
              forget();
              stream.error(error);
            }
          },
          cancel(reason) {
            forget();
            return reader.cancel(reason);
          },
        });
        return new Response(body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      },
      (error) => {
        forget();
        throw error;
      },
    );
  };
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
      if (!online) {
        for (const controller of [...open]) {
          controller.abort(new TypeError('fetch failed: the device is offline'));
        }
        open.clear();
      }
      for (const listener of [...listeners]) listener(online);
    },
    fetch: (input, init) => {
      if (!online) return Promise.reject(new TypeError('fetch failed: the device is offline'));
      if (!debug) return send(input, init);
      const what = `${init?.method ?? 'GET'} ${String(input)}`;
      console.log(`${name.padEnd(7)} -> ${what}`);
      return send(input, init).then((response) => {
        console.log(`${name.padEnd(7)} <- ${response.status} ${what}`);
        return response;
      });
    },
  };
}
