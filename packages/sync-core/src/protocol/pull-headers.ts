/**
 * A response header of `GET /v1/pull`: when more pages follow (`hasMore`), the page's
 * checkpoint, exactly as the body's `checkpoint`. A client may ask for the next page as soon as
 * it arrives, before it has read and parsed this page's body; the body stays the authority
 * (docs/protocol.md).
 *
 * @module
 */

/** The checkpoint the next page starts from; sent only when `hasMore` is `true`. */
export const PULL_NEXT_CHECKPOINT_HEADER = 'syncline-next-checkpoint';
