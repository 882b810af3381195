/**
 * Checkpoints are opaque to clients; here they are `c1.<database epoch>.<version>`. The epoch
 * makes a checkpoint from another database (or a wiped one) recognisable, and the version is
 * the scope version the client is up to date with. Never a timestamp (DESIGN §3.1).
 *
 * @module
 */

const PATTERN = /^c1\.([0-9a-f]{1,64})\.(0|[1-9][0-9]{0,15})$/;

/** Encodes a checkpoint. */
export function encodeCheckpoint(epoch: string, version: number): string {
  return `c1.${epoch}.${version}`;
}

/**
 * Decodes a checkpoint issued by the database with `epoch`; `undefined` for anything else
 * (garbage, another database, a version beyond the safe integers).
 */
export function decodeCheckpoint(checkpoint: string, epoch: string): number | undefined {
  const match = PATTERN.exec(checkpoint);
  if (match === null || match[1] !== epoch) return undefined;
  const version = Number(match[2]);
  return Number.isSafeInteger(version) ? version : undefined;
}
