import type { Mutation } from '../protocol/types.js';

/** A mutation the server rejected permanently, kept until the app retries or discards it. */
export interface DeadLetter {
  /** The rejected mutation. */
  mutation: Mutation;
  /** The server's (or client's) reason code. */
  code: string;
  /** Human-readable reason. */
  message: string;
  /** When it was rejected (epoch ms). */
  rejectedAt: number;
}
