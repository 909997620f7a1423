import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/auditEntry.js';
import { unavailable } from '../../src/errors.js';
import type { AuditRepository } from '../../src/audit/auditRepository.js';
import { createAuditTrail } from '../../src/audit/auditTrail.js';
import { createLogger } from '../../src/logger.js';
import type { RevokedSession } from '../../src/sessions/revokeSessions.js';

const owner = { issuer: 'https://op.example', sub: 'alice', name: 'Alice Archer' };
const revoked = (n: number, extra: Partial<RevokedSession> = {}): RevokedSession => ({
  sessionHandle: `handle-${n}`,
  reason: 'logout',
  at: new Date().toISOString(),
  owner,
  actor: owner,
  ...extra,
});

/** The unit under test is the buffer; its repository is a stand-in that fails while `down` is true. */
function harness() {
  const stored: AuditEntry[] = [];
  const state = { down: true, refuse: false, attempts: 0 };
  const repository: AuditRepository = {
    async insert(entries) {
      state.attempts++;
      if (state.down) throw unavailable('database');
      if (state.refuse) throw Object.assign(new Error('new row violates check constraint'), { code: '23514' });
      stored.push(...entries);
    },
    list: async () => [],
    purgeOlderThan: async () => 0,
  };
  const lines: string[] = [];
  const log = createLogger({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }));
  const trail = createAuditTrail({ repository, isSchemaReady: () => true, replica: 'r1', retentionDays: 30, log, flushDelayMs: 20, maxBuffered: 3 });
  return { trail, stored, state, lines };
}

describe('the audit buffer', () => {
  it('when the database is down, then entries are logged at once, kept (the newest, up to the cap) and stored once it is back', async () => {
    const { trail, stored, state, lines } = harness();
    for (let n = 1; n <= 5; n++) trail.record(revoked(n));
    expect(lines.filter((line) => line.includes('sign-out audited'))).toHaveLength(5);
    await expect.poll(() => state.attempts, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
    expect(stored).toEqual([]);
    expect(lines.some((line) => line.includes('audit entries not stored yet'))).toBe(true);

    state.down = false;
    await expect.poll(() => stored.length, { timeout: 5000 }).toBe(3);
    expect(stored.map((entry) => entry.sessionHandle)).toEqual(['handle-3', 'handle-4', 'handle-5']);
    await trail.stop();
  });

  it('when the database refuses a batch (not an outage), then that batch is dropped, logged, and later entries still go through', async () => {
    const { trail, stored, state, lines } = harness();
    state.down = false;
    state.refuse = true;
    trail.record(revoked(1));
    await trail.flush();
    expect(lines.some((line) => line.includes('audit entries refused by the database'))).toBe(true);
    state.refuse = false;
    trail.record(revoked(2));
    await trail.flush();
    expect(stored.map((entry) => entry.sessionHandle)).toEqual(['handle-2']);
    await trail.stop();
  });

  it('when a session ends by DELETE /api/sessions, then it is another device for its owner and a moderator\'s act for anyone else', async () => {
    const { trail, stored, state } = harness();
    state.down = false;
    trail.record(revoked(1, { reason: 'revoked' }));
    trail.record(revoked(2, { reason: 'revoked', actor: { issuer: owner.issuer, sub: 'carol', name: 'Carol Cook' } }));
    trail.record(revoked(3, { reason: 'backchannel_logout', actor: undefined }));
    await trail.flush();
    expect(stored.map((entry) => [entry.cause, entry.actor?.sub ?? null])).toEqual([
      ['another_device', 'alice'],
      ['moderator', 'carol'],
      ['backchannel_logout', null],
    ]);
    await trail.stop();
  });
});
