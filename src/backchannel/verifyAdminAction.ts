import type { JWTVerifyGetKey } from 'jose';
import { verifySignedJws } from './compactJws.js';

/** The admin action broke a rule: answer 400, change nothing. The message names the rule. */
export class InvalidAdminAction extends Error {
  override name = 'InvalidAdminAction';
}

export type AdminActionKind = 'LOGOUT' | 'PUSH_NOT_BEFORE';

export interface AdminActionPolicy {
  /** Our client id: the action's `resource` must be it. */
  clientId: string;
  /** The realm's signing alg (RS256 unless configured otherwise). */
  algorithm: string;
  keys: JWTVerifyGetKey;
  expectedAction: AdminActionKind;
  clockToleranceSeconds: number;
  now?: () => Date;
}

export interface AdminAction {
  action: AdminActionKind;
  /** Unique per action: the replay record's key. */
  id: string;
  /** Epoch seconds; the replay record lives until then. */
  expiration: number;
  /** Epoch seconds: tokens issued before it are void (0: none). */
  notBefore: number;
  /** LOGOUT of given sessions only: the provider's session ids (`sid`). */
  keycloakSessionIds: string[];
}

// Keycloak signs admin actions as plain JWTs (header typ "JWT").
const ACCEPTED_TYP = new Set(['jwt']);
const MAX_ID_LENGTH = 1024;
const MAX_SESSION_IDS = 10_000;

/**
 * Verifies a Keycloak admin action posted to the client's admin URL (`k_logout`,
 * `k_push_not_before`; Keycloak's ResourceAdminManager): a compact JWS signed with a key of the
 * realm's JWKS, with the payload of Keycloak's `AdminAction` — `id`, `expiration` (epoch s),
 * `resource` (the client id), `action` — plus `notBefore` (epoch s) and, for a LOGOUT of given
 * sessions, `adapterSessionIds` / `keycloakSessionIds`. As strict as a logout token: signature and
 * alg, `typ`, `resource`, `expiration` in the future, `action` as expected, an `id`.
 * Replay of `id` is the caller's business. Throws InvalidAdminAction or SigningKeysUnavailable.
 */
export async function verifyAdminAction(token: string, policy: AdminActionPolicy): Promise<AdminAction> {
  const { payload: claims } = await verifySignedJws(
    token,
    { algorithm: policy.algorithm, keys: policy.keys, acceptedTyp: ACCEPTED_TYP, typLabel: 'JWT', what: 'admin action' },
    reject,
  );

  if (claims.action !== policy.expectedAction) reject(`action must be ${policy.expectedAction}`);
  if (claims.resource !== policy.clientId) reject('resource is not this client');
  const id = claims.id;
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) reject('id must be a non-empty string');
  const nowSeconds = Math.floor((policy.now?.() ?? new Date()).getTime() / 1000);
  const expiration = epochSeconds(claims, 'expiration');
  if (expiration === undefined) reject('expiration is required');
  if (expiration! + policy.clockToleranceSeconds < nowSeconds) reject('the action has expired (expiration)');
  const notBefore = epochSeconds(claims, 'notBefore') ?? 0;
  const keycloakSessionIds = sessionIds(claims.keycloakSessionIds);

  return { action: policy.expectedAction, id: id as string, expiration: expiration!, notBefore, keycloakSessionIds };
}

function epochSeconds(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) reject(`${name} must be a whole number of seconds`);
  return value as number;
}

function sessionIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_SESSION_IDS) reject('keycloakSessionIds must be a list of session ids');
  for (const id of value as unknown[]) {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) reject('keycloakSessionIds must be a list of session ids');
  }
  return value as string[];
}

function reject(reason: string): never {
  throw new InvalidAdminAction(reason);
}
