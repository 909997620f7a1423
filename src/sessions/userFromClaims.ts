import type { IDToken } from 'openid-client';
import type { SessionUser } from './sessionUser.js';

/** The user as the API shows it, from validated ID-token claims. Roles come from `rolesClaim`, a dotted path. */
export function userFromClaims(claims: IDToken, rolesClaim: string): SessionUser {
  const text = (name: string): string | undefined => {
    const value = claims[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const username = text('preferred_username') ?? claims.sub;
  const fullName = [text('given_name'), text('family_name')].filter(Boolean).join(' ');
  return {
    id: claims.sub,
    username,
    name: text('name') ?? (fullName || username),
    email: text('email') ?? null,
    roles: readRoles(claims, rolesClaim),
  };
}

function readRoles(claims: IDToken, path: string): string[] {
  let node: unknown = claims;
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null) return [];
    node = (node as Record<string, unknown>)[segment];
  }
  return Array.isArray(node) ? node.filter((role): role is string => typeof role === 'string') : [];
}
