-- Up Migration
-- Endpoint settings added for delivery: extra headers, timeout, the secret
-- before the last rotation (sealed, signed with until it expires), and why
-- Tidings disabled it.
ALTER TABLE user_webhooks
  ADD COLUMN headers                    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN timeout_ms                 integer     NOT NULL DEFAULT 30000,
  ADD COLUMN previous_secret_encrypted  text,
  ADD COLUMN previous_secret_expires_at timestamptz,
  ADD COLUMN disabled_reason            text;

-- Every attempt of every delivery, from notification.delivery.results.
CREATE TABLE delivery_attempts (
  delivery_id     uuid        NOT NULL,
  attempt         integer     NOT NULL,
  notification_id uuid        NOT NULL,
  user_id         text        NOT NULL,
  channel         text        NOT NULL,
  endpoint_id     text,
  outcome         text        NOT NULL,
  status          integer,
  error           text,
  latency_ms      integer,
  next_attempt_at timestamptz,
  at              timestamptz NOT NULL,
  -- a redriven delivery starts again at attempt 1: its attempts are told apart by their time
  PRIMARY KEY (delivery_id, attempt, at)
);
CREATE INDEX delivery_attempts_endpoint ON delivery_attempts (user_id, endpoint_id, at DESC, delivery_id, attempt);
CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id);

-- The seed's endpoint statistics, kept apart from user_webhooks so that
-- replacing a user's endpoint set does not reset them. failing_since: the
-- first failure after the last success (null while the endpoint succeeds).
CREATE TABLE webhook_endpoint_stats (
  user_id           text        NOT NULL,
  endpoint_id       text        NOT NULL,
  total_sent        bigint      NOT NULL DEFAULT 0,
  total_failed      bigint      NOT NULL DEFAULT 0,
  last_triggered_at timestamptz,
  last_success_at   timestamptz,
  last_error        text,
  failing_since     timestamptz,
  PRIMARY KEY (user_id, endpoint_id)
);

-- Down Migration
DROP TABLE webhook_endpoint_stats;
DROP TABLE delivery_attempts;
ALTER TABLE user_webhooks
  DROP COLUMN headers, DROP COLUMN timeout_ms, DROP COLUMN previous_secret_encrypted,
  DROP COLUMN previous_secret_expires_at, DROP COLUMN disabled_reason;
