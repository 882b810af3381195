/**
 * Checkpoints are opaque to clients; here they are `c1.<database epoch>.<version>`. The epoch
 * makes a checkpoint from another database (or a wiped one) recognisable, and the version is
 * the scope version the client is up to date with. Never a timestamp (DESIGN §3.1).
 *
 * A page of a pull that started over after a tombstone purge ends below the purge horizon; its
 * checkpoint says under which horizon it was issued (`c1.<epoch>.<version>.h<horizon>`), and
 * stays good while no later purge raised the horizon (else the reset's second page would be
 * told to reset again, for ever).
 *
 * @module
 */

const PATTERN = /^c1\.([0-9a-f]{1,64})\.(0|[1-9][0-9]{0,15})(?:\.h([1-9][0-9]{0,15}))?$/;

/** Encodes a checkpoint; `horizon` is the scope's purge horizon when it is issued. */
export function encodeCheckpoint(epoch: string, version: number, horizon = 0): string {
  return version >= horizon ? `c1.${epoch}.${version}` : `c1.${epoch}.${version}.h${horizon}`;
}

/** A decoded checkpoint: the version, and the purge horizon it was issued under (0: unknown). */
export interface CheckpointParts {
  version: number;
  issuedUnder: number;
}

/** Decodes a checkpoint issued by the database with `epoch`; `undefined` for anything else. */
export function decodeCheckpointParts(
  checkpoint: string,
  epoch: string,
): CheckpointParts | undefined {
  const match = PATTERN.exec(checkpoint);
  if (match === null || match[1] !== epoch) return undefined;
  const version = Number(match[2]);
  const issuedUnder = match[3] === undefined ? 0 : Number(match[3]);
  return Number.isSafeInteger(version) && Number.isSafeInteger(issuedUnder)
    ? { version, issuedUnder }
    : undefined;
}

/**
 * Whether a client at `parts` must start over: a checkpoint below the purge horizon may have
 * missed a purged tombstone, unless it was issued under that same horizon.
 */
export function behindPurge(parts: CheckpointParts, purgedThrough: number): boolean {
  return parts.version < purgedThrough && parts.issuedUnder < purgedThrough;
}

/**
 * Decodes a checkpoint issued by the database with `epoch`; `undefined` for anything else
 * (garbage, another database, a version beyond the safe integers).
 */
export function decodeCheckpoint(checkpoint: string, epoch: string): number | undefined {
  return decodeCheckpointParts(checkpoint, epoch)?.version;
}
