import type { SessionIndex } from '../../src/sessions/sessionIndex.js';

/**
 * Holds the callback of a sign-in into `providerSid` just before it indexes its new session (it
 * holds the provider's tokens then; its session is nowhere yet), on the replica whose index is
 * given, until `release` is called. Other sign-ins pass.
 */
export function holdIndexWrite(index: SessionIndex, providerSid: string): { atIndexWrite: Promise<void>; release: () => void } {
  const add = index.add;
  let reached!: () => void;
  let release!: () => void;
  const atIndexWrite = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  index.add = async (entry) => {
    if (entry.providerSid === providerSid) {
      reached();
      await released;
    }
    return add.call(index, entry);
  };
  return {
    atIndexWrite,
    release: () => {
      index.add = add;
      release();
    },
  };
}
