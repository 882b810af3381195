import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors/sync-error.js';
import {
  isSha256Hex,
  validateAckRequest,
  validateAckResponse,
  validateCreateTransferRequest,
  validateDeliveryStatusResponse,
  validateHeartbeatRequest,
  validatePendingDeliveriesResponse,
  validateSendDeliveryRequest,
  validateSessionListResponse,
  validateTransferProgressRequest,
  validateTransferResponse,
} from './validate-sessions.js';

const ID = '018f2c1e-8b7a-7cde-9f01-23456789abcd';
const HASH = 'a'.repeat(64);

/** The JSON path an `invalid` error names, or a description of what was thrown instead. */
function pathOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isSyncError(error) && error.kind === 'invalid') {
      return (error.details as { path: string }).path;
    }
    return `not an invalid SyncError: ${String(error)}`;
  }
  return 'did not throw';
}

const delivery = {
  id: ID,
  scope: 'user:u1',
  kind: 'asset',
  originSessionId: 's1',
  target: { type: 'otherSessions' },
  createdAt: 1,
  expiresAt: 2,
};

const transfer = {
  id: ID,
  scope: 'workspace:7',
  assetHash: HASH,
  requesterSessionId: 's1',
  requesterUserId: 'u1',
  holderUserId: 'u2',
  state: 'pending',
  uploadedBytes: 0,
  downloadedBytes: 0,
  totalBytes: 0,
  createdAt: 1,
  updatedAt: 1,
  expiresAt: 3,
};

describe('session-targeting validators', () => {
  it('reads a heartbeat and drops undefined optionals', () => {
    expect(
      validateHeartbeatRequest({
        clientId: 'c1',
        sessionId: 's1',
        label: 'Laptop',
        platform: undefined,
      }),
    ).toEqual({ clientId: 'c1', sessionId: 's1', label: 'Laptop' });
    expect(pathOf(() => validateHeartbeatRequest({ clientId: 'c 1', sessionId: 's1' }))).toBe(
      '$.clientId',
    );
    expect(pathOf(() => validateHeartbeatRequest({ clientId: 'c1', sessionId: 's1', x: 1 }))).toBe(
      '$.x',
    );
    expect(
      pathOf(() => validateHeartbeatRequest({ clientId: 'c1', sessionId: 's1', label: 'a\u0000' })),
    ).toBe('$.label');
  });

  it('reads a delivery request with each target type', () => {
    const base = { id: ID, scope: 'user:u1', kind: 'note', target: { type: 'otherSessions' } };
    expect(validateSendDeliveryRequest(base)).toEqual(base);
    const ids = validateSendDeliveryRequest({
      ...base,
      target: { type: 'sessions', ids: ['a', 'b', 'a'] },
      payload: { n: [1, 2] },
      assetHash: HASH,
      ttlSeconds: 60,
    });
    expect(ids.target).toEqual({ type: 'sessions', ids: ['a', 'b'] });
    expect(ids.payload).toEqual({ n: [1, 2] });
    expect(
      validateSendDeliveryRequest({ ...base, target: { type: 'scopeMembers' } }).target,
    ).toEqual({ type: 'scopeMembers' });
  });

  it('refuses malformed delivery requests with the path of the problem', () => {
    const base = { id: ID, scope: 'user:u1', kind: 'note', target: { type: 'otherSessions' } };
    expect(pathOf(() => validateSendDeliveryRequest({ ...base, id: ID.toUpperCase() }))).toBe(
      '$.id',
    );
    expect(pathOf(() => validateSendDeliveryRequest({ ...base, kind: '' }))).toBe('$.kind');
    expect(pathOf(() => validateSendDeliveryRequest({ ...base, assetHash: 'A'.repeat(64) }))).toBe(
      '$.assetHash',
    );
    expect(pathOf(() => validateSendDeliveryRequest({ ...base, target: { type: 'all' } }))).toBe(
      '$.target.type',
    );
    expect(
      pathOf(() => validateSendDeliveryRequest({ ...base, target: { type: 'sessions', ids: [] } })),
    ).toBe('$.target.ids');
    expect(
      pathOf(() =>
        validateSendDeliveryRequest({
          ...base,
          target: { type: 'sessions', ids: ['ok', 'no pe'] },
        }),
      ),
    ).toBe('$.target.ids[1]');
    expect(
      pathOf(() =>
        validateSendDeliveryRequest({ ...base, target: { type: 'otherSessions', ids: [] } }),
      ),
    ).toBe('$.target.ids');
    expect(pathOf(() => validateSendDeliveryRequest({ ...base, ttlSeconds: 0 }))).toBe(
      '$.ttlSeconds',
    );
    expect(
      pathOf(() =>
        validateSendDeliveryRequest({ ...base, payload: JSON.parse('{"__proto__":1}') }),
      ),
    ).toBe('$.payload.__proto__');
    expect(
      pathOf(() => validateSendDeliveryRequest({ ...base, payload: [[[1]]] }, { maxJsonDepth: 2 })),
    ).toBe('$.payload[0][0]');
  });

  it('takes an ack body only when empty', () => {
    expect(() => validateAckRequest(undefined)).not.toThrow();
    expect(() => validateAckRequest({})).not.toThrow();
    expect(pathOf(() => validateAckRequest({ sessionId: 'other' }))).toBe('$.sessionId');
    expect(pathOf(() => validateAckRequest([]))).toBe('$');
  });

  it('reads transfer requests and progress reports', () => {
    const request = {
      id: ID,
      scope: 'workspace:7',
      assetHash: HASH,
      name: 'photo.jpg',
      size: 10,
      mimeType: 'image/jpeg',
      from: { userId: 'owner' },
    };
    expect(validateCreateTransferRequest(request)).toEqual(request);
    expect(pathOf(() => validateCreateTransferRequest({ ...request, from: {} }))).toBe(
      '$.from.userId',
    );
    expect(pathOf(() => validateCreateTransferRequest({ ...request, size: -1 }))).toBe('$.size');
    expect(validateTransferProgressRequest({ side: 'upload', bytesDone: 5 })).toEqual({
      side: 'upload',
      bytesDone: 5,
    });
    expect(pathOf(() => validateTransferProgressRequest({ side: 'up', bytesDone: 5 }))).toBe(
      '$.side',
    );
    expect(
      pathOf(() =>
        validateTransferProgressRequest({ side: 'upload', bytesDone: 1, state: 'expired' }),
      ),
    ).toBe('$.state');
    expect(
      pathOf(() => validateTransferProgressRequest({ side: 'upload', bytesDone: 1, error: 'x' })),
    ).toBe('$.error');
  });

  it('checks the answers a client reads', () => {
    expect(
      validateSessionListResponse({
        sessions: [{ userId: 'u', sessionId: 's', clientId: 'c', lastSeenAt: 5, active: true }],
      }).sessions[0]?.active,
    ).toBe(true);
    expect(
      pathOf(() =>
        validateSessionListResponse({
          sessions: [{ userId: 'u', sessionId: 's', clientId: 'c', lastSeenAt: 5 }],
        }),
      ),
    ).toBe('$.sessions[0].active');
    expect(validatePendingDeliveriesResponse({ deliveries: [delivery] }).deliveries).toEqual([
      delivery,
    ]);
    expect(
      pathOf(() =>
        validatePendingDeliveriesResponse({ deliveries: [{ ...delivery, expired: false }] }),
      ),
    ).toBe('$.deliveries[0].expired');
    const status = { targets: ['b'], acked: [], complete: false, expired: false };
    expect(validateDeliveryStatusResponse({ delivery, status }).status).toEqual(status);
    expect(validateAckResponse({ complete: true })).toEqual({ complete: true });
    expect(pathOf(() => validateAckResponse({ complete: 1 }))).toBe('$.complete');
    expect(validateTransferResponse({ transfer }).transfer).toEqual(transfer);
    expect(
      pathOf(() => validateTransferResponse({ transfer: { ...transfer, state: 'done' } })),
    ).toBe('$.transfer.state');
  });

  it('knows a sha256 name', () => {
    expect(isSha256Hex(HASH)).toBe(true);
    expect(isSha256Hex(`${HASH}0`)).toBe(false);
    expect(isSha256Hex('g'.repeat(64))).toBe(false);
  });
});
