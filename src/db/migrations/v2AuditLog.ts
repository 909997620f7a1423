import type { Migration } from './migration.js';

/**
 * The sign-out audit trail: one row per revoked session. Users are named by issuer + subject (and
 * the display name at that time); sessions by their public handle, never the session id. Pages walk
 * `id` newest first, filtered by user or cause; `at` serves the retention sweep.
 */
export const v2AuditLog: Migration = {
  version: 2,
  name: 'audit log of sign-outs',
  sql: `
CREATE TABLE audit_log (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL,
  cause          text NOT NULL CHECK (cause IN ('backchannel_logout', 'logout', 'another_device', 'moderator', 'provider_session_ended', 'expired')),
  user_issuer    text NOT NULL,
  user_subject   text NOT NULL,
  user_name      text NOT NULL,
  session_handle text NOT NULL,
  actor_subject  text,
  actor_name     text,
  replica        text NOT NULL
);
CREATE INDEX audit_log_user_idx ON audit_log (user_issuer, user_subject, id);
CREATE INDEX audit_log_cause_idx ON audit_log (cause, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
`,
};
