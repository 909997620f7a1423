import type { EndReason } from '@board-bff/client';

/** The signed-out notice's sentence for each reason the BFF gives. */
export function describeEndReason(reason: EndReason): { title: string; detail: string } {
  switch (reason) {
    case 'backchannel_logout':
      return {
        title: 'An administrator signed you out',
        detail: 'Your session was ended at the identity provider — by an administrator, or by signing out of the provider elsewhere.',
      };
    case 'provider_session_ended':
      return {
        title: 'Your sign-in at the identity provider ended',
        detail: 'The identity provider no longer accepts this session: an administrator may have signed everyone out, or it expired there.',
      };
    case 'revoked':
      return { title: 'Signed out from another device', detail: 'This device was signed out from the "My sessions" list on another device.' };
    case 'logout':
      return { title: 'You signed out', detail: 'You signed out in another tab or window.' };
    case 'expired':
      return { title: 'Your session expired', detail: 'You were inactive for too long, or the session reached its maximum age.' };
    default:
      return { title: 'You were signed out', detail: `The session ended (${reason}).` };
  }
}
