import type { OtherSessionsTarget, SessionsTarget } from '../protocol/types.js';

/** Every member of `scope` (their active sessions, minus the sending one). */
export interface ScopeMembersSpec {
  /** Discriminant. */
  type: 'scopeMembers';
  /** The shared scope, e.g. `workspace:42`. */
  scope: string;
}

/** Who a delivery goes to, as the app names it; build one with the helpers below. */
export type TargetSpec = OtherSessionsTarget | SessionsTarget | ScopeMembersSpec;

/** Every other session of the signed-in user (the default). */
export function otherSessions(): OtherSessionsTarget {
  return { type: 'otherSessions' };
}

/** The listed sessions of the signed-in user. */
export function sessions(ids: readonly string[]): SessionsTarget {
  return { type: 'sessions', ids: [...ids] };
}

/** Every member of a shared scope. */
export function scopeMembers(scope: string): ScopeMembersSpec {
  return { type: 'scopeMembers', scope };
}
