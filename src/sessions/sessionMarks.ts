/**
 * Marks a loaded session record carries for the rest of its request (SessionStore sets them when it
 * reads the record, express-session's `createSession` carries them onto `req.session`). Symbols,
 * defined non-enumerable: never serialized, so never stored.
 */

/** The record needs no renewal this request (see IdleTimeout). */
const RENEWAL_NOT_DUE = Symbol('renewalNotDue');

/**
 * The session's tokens predate the issuer-wide not-before (Keycloak's admin actions: realm "Sign out
 * all active sessions", "Revocation → Push"), read in the same round trip as the record; the session
 * guard revokes such a session.
 */
const ISSUED_BEFORE_NOT_BEFORE = Symbol('issuedBeforeNotBefore');

const MARKS = [RENEWAL_NOT_DUE, ISSUED_BEFORE_NOT_BEFORE] as const;
type Mark = (typeof MARKS)[number];

const has = (session: object, mark: Mark) => (session as Record<symbol, unknown>)[mark] === true;
const set = (session: object, mark: Mark) => Object.defineProperty(session, mark, { value: true });

export const renewalNotDue = (session: object): boolean => has(session, RENEWAL_NOT_DUE);
export const markRenewalNotDue = (session: object): void => void set(session, RENEWAL_NOT_DUE);

/** True when the loaded record predates the issuer-wide not-before (see ISSUED_BEFORE_NOT_BEFORE). */
export const issuedBeforeNotBefore = (session: object): boolean => has(session, ISSUED_BEFORE_NOT_BEFORE);
export const markIssuedBeforeNotBefore = (session: object): void => void set(session, ISSUED_BEFORE_NOT_BEFORE);

/** Gives `to` (the request's session) the marks `from` (the record as loaded) carries. */
export function carryMarks(from: object, to: object): void {
  for (const mark of MARKS) if (has(from, mark)) set(to, mark);
}
