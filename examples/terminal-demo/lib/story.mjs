// @ts-check
/**
 * What the demo does with two devices of one user: write, see it arrive, go offline, edit the
 * same todo on both, reconnect, and watch the conflict resolve the same way on both.
 */
import { describeStatus, isSettled, waitUntil } from './device.mjs';
import { describeTodos, say, step } from './print.mjs';

/**
 * @param {{ phone: import('./device.mjs').Device, laptop: import('./device.mjs').Device }} devices
 * @returns {Promise<string>} the final view both devices agree on
 */
export async function runStory({ phone, laptop }) {
  const both = [phone, laptop];
  // Compared canonically: the server may hand back an object's keys in another order.
  const sameView = () => canonical(phone.todos()) === canonical(laptop.todos());
  /** @param {string} what */
  const settled = async (what) => {
    try {
      await waitUntil(what, () => both.every(isSettled) && sameView());
    } catch (error) {
      // Show where each device got stuck before giving up.
      for (const device of both) {
        device.showView();
        say(device.name, `status: ${describeStatus(device.client.status)}`);
      }
      throw error;
    }
  };

  step(1, 'The phone adds two todos; the laptop receives them');
  await phone.client.put('todos', 'milk', { title: 'Buy milk', done: false });
  await phone.client.put('todos', 'mum', { title: 'Call mum', done: false });
  say('phone', 'put milk and mum (the view changed at once; the outbox sends them)');
  phone.showView();
  await settled('the laptop to receive both todos');
  laptop.showView();

  step(2, 'The laptop goes offline, and both devices edit the same todo');
  laptop.network.set(false);
  say('laptop', 'network off');
  await laptop.client.patch('todos', 'milk', { title: 'Buy oat milk' });
  say('laptop', 'renamed milk to "Buy oat milk" (saved locally, waiting in the outbox)');
  await phone.client.patch('todos', 'milk', { done: true });
  say('phone', 'ticked milk off');
  await waitUntil('the phone to push its edit', () => isSettled(phone));
  await waitUntil('the laptop to notice it is offline', () => laptop.client.status.pending > 0);
  phone.showView();
  laptop.showView();

  step(3, 'The laptop reconnects: its edit conflicts with the phone’s, fieldMerge keeps both');
  laptop.network.set(true);
  say('laptop', 'network on');
  await settled('both devices to agree after the conflict');
  phone.showView();
  laptop.showView();

  step(4, 'The laptop deletes a todo; the phone sees it go');
  await laptop.client.delete('todos', 'mum');
  say('laptop', 'deleted mum');
  await settled('the delete to reach the phone');
  phone.showView();

  const finalView = describeTodos(phone.todos());
  say('demo', `both devices agree: ${finalView}`);
  return finalView;
}

/**
 * JSON with object keys sorted, so equal values give equal strings.
 * @param {unknown} value
 * @returns {string}
 */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) =>
          `${JSON.stringify(key)}:${canonical(/** @type {Record<string, unknown>} */ (value)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
