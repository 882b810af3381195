/**
 * Response headers of `GET /v1/pull` that repeat the page's `checkpoint` and `hasMore` (the body
 * holds both too). A client may ask for the next page as soon as these arrive, before it has
 * read and parsed this page's body; the body stays the authority (docs/protocol.md).
 *
 * @module
 */

/** The page's checkpoint, exactly as the body's `checkpoint`. */
export const PULL_CHECKPOINT_HEADER = 'syncline-checkpoint';

/** `true` or `false`, as the body's `hasMore`. */
export const PULL_HAS_MORE_HEADER = 'syncline-has-more';
