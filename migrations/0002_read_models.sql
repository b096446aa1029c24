-- Up Migration

-- A user's preference set as the router sees it (types left out use their defaults).
CREATE TABLE notification_preferences (
  user_id     text        PRIMARY KEY,
  preferences jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE recipients (
  user_id      text        PRIMARY KEY,
  email        text,
  display_name text,
  locale       text        NOT NULL,
  time_zone    text        NOT NULL,
  roles        text[]      NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL
);

-- Secrets arrive encrypted from notification.webhooks and stay so; the API never returns them.
CREATE TABLE user_webhooks (
  user_id          text        NOT NULL,
  endpoint_id      text        NOT NULL,
  url              text        NOT NULL,
  format           text        NOT NULL,
  secret_encrypted text,
  enabled          boolean     NOT NULL,
  types            text[]      NOT NULL DEFAULT '{}',
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (user_id, endpoint_id)
);

CREATE TABLE audit_log (
  id              uuid        PRIMARY KEY,
  notification_id uuid        NOT NULL,
  user_id         text        NOT NULL,
  type            text        NOT NULL,
  severity        text        NOT NULL,
  title           text        NOT NULL,
  message         text        NOT NULL,
  data            jsonb       NOT NULL,
  source_type     text        NOT NULL,
  source_id       text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL
);
-- Admin listing, newest first, and per user.
CREATE INDEX audit_log_recent ON audit_log (recorded_at DESC, id DESC);
CREATE INDEX audit_log_user ON audit_log (user_id, recorded_at DESC);

-- Down Migration
DROP TABLE audit_log;
DROP TABLE user_webhooks;
DROP TABLE recipients;
DROP TABLE notification_preferences;
