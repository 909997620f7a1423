import { describe, expect, it } from 'vitest';
import type { SessionData } from 'express-session';
import { createRevocationOf } from '../../src/sessions/revocationOf.js';
import type { Revocation } from '../../src/sessions/revocation.js';
import type { SessionStore } from '../../src/sessions/sessionStore.js';
import type { Tombstones } from '../../src/sessions/tombstones.js';

// The re-read every new event stream waits on: both reads go out together (one round trip over
// ioredis's auto-pipelining), and the answer is the same as reading them one after the other.
describe('revocationOf', () => {
  const revoked: Revocation = { reason: 'backchannel_logout', at: '2026-11-30T06:00:00.000Z' };
  const setup = (tombstone: () => Promise<Revocation | null>, record: () => Promise<SessionData | null>) => {
    const calls: string[] = [];
    const tombstones = { get: async () => (calls.push('tombstone'), tombstone()) } as unknown as Tombstones;
    const store = { read: () => (calls.push('record'), record()) } as unknown as SessionStore;
    return { calls, revocationOf: createRevocationOf({ tombstones, store }) };
  };

  it('when the tombstone has not answered yet, then the record has been asked for already', async () => {
    let answer!: (value: Revocation | null) => void;
    const { calls, revocationOf } = setup(() => new Promise((resolve) => (answer = resolve)), async () => ({}) as SessionData);
    const result = revocationOf('s1');
    await Promise.resolve();
    expect(calls.sort()).toEqual(['record', 'tombstone']);
    answer(null);
    expect(await result).toBeNull();
  });

  it('when a tombstone stands, then it is the answer, even if the record read failed', async () => {
    const { revocationOf } = setup(async () => revoked, () => Promise.reject(new Error('Redis is unavailable')));
    expect(await revocationOf('s1')).toEqual(revoked);
  });

  it('when there is no tombstone and no record, then the session is expired; when a read fails, then it rejects', async () => {
    expect(await setup(async () => null, async () => null).revocationOf('s1')).toMatchObject({ reason: 'expired' });
    await expect(setup(async () => null, () => Promise.reject(new Error('down'))).revocationOf('s1')).rejects.toThrow('down');
    await expect(setup(() => Promise.reject(new Error('down')), async () => null).revocationOf('s1')).rejects.toThrow('down');
  });
});
