/**
 * The app's own sign-in: `POST /api/sign-in { email }` answers an HMAC-signed bearer token (a
 * demo stands in for a password or an identity provider; the shape of the API is what matters).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Issues and checks this API's tokens. */
export class TokenAuth {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  /** A token for `userId`. */
  issue(userId: string): string {
    const payload = Buffer.from(userId, 'utf8').toString('base64url');
    return `${payload}.${this.#sign(payload)}`;
  }

  /** The user of a `Authorization: Bearer` header, or `null` when missing or forged. */
  userOf(request: Request): string | null {
    const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(
      request.headers.get('authorization') ?? '',
    );
    if (match === null) return null;
    const [, payload = '', signature = ''] = match;
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return Buffer.from(payload, 'base64url').toString('utf8');
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url');
  }
}
