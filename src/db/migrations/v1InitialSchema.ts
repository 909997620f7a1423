import type { Migration } from './migration.js';

/**
 * Users (external identity = issuer + subject, provisioned at login), posts and comments.
 * Ids are identities drawn at insert, so `ORDER BY id DESC` is creation order: newest-first pages
 * walk the primary key (posts) or (post_id, id) (comments) without a sort. Length checks repeat the
 * API's limits (char_length counts code points, as the validator does) as a last line of defence.
 */
export const v1InitialSchema: Migration = {
  version: 1,
  name: 'users, posts, comments',
  sql: `
CREATE TABLE users (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  issuer        text NOT NULL,
  subject       text NOT NULL,
  username      text NOT NULL,
  display_name  text NOT NULL,
  email         text,
  last_login_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_external_identity_key UNIQUE (issuer, subject)
);

CREATE TABLE posts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id  bigint NOT NULL REFERENCES users (id),
  title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 20000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_author_id_idx ON posts (author_id);

CREATE TABLE comments (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  post_id    bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
  author_id  bigint NOT NULL REFERENCES users (id),
  body       text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 5000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- A post's comments in order, its comment count, and the cascade on post delete all use this one.
CREATE INDEX comments_post_id_id_idx ON comments (post_id, id);
CREATE INDEX comments_author_id_idx ON comments (author_id);
`,
};
