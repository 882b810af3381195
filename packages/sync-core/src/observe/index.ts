export { type ChangeRouter, createChangeRouter } from './change-router.js';
export {
  type Observer,
  observeClient,
  observeQuery,
  observeRecord,
  observeStatus,
} from './observers.js';
export {
  observeDeliveries,
  observeSessions,
  observeTransfers,
  type SessionsObserver,
  type SessionsSnapshot,
} from './session-observers.js';
