import type { StorageAdapter } from '../storage/types.js';
import type { IdGenerator } from './uuid-v7.js';

/** Storage namespace for per-installation state, shared by every user of the device. */
export const DEVICE_NAMESPACE = 'device';
const CLIENT_ID_KEY = 'clientId';

/**
 * The installation's client id: read from the `device` namespace, or created and persisted on
 * first use. It is stable across reloads and across sign-ins of different users on the device
 * (DESIGN §2), so the server can replace a device's old session on re-login.
 *
 * @param storage - where the id is kept
 * @param generateId - makes a new id when none is stored
 */
export async function loadClientId(
  storage: StorageAdapter,
  generateId: IdGenerator,
): Promise<string> {
  const stored = await storage.get(DEVICE_NAMESPACE, CLIENT_ID_KEY);
  if (typeof stored === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(stored)) return stored;
  const clientId = generateId();
  await storage.write(DEVICE_NAMESPACE, [{ type: 'set', key: CLIENT_ID_KEY, value: clientId }]);
  return clientId;
}
