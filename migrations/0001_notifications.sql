-- Up Migration

-- The inbox: one row per accepted notification. Rebuilt from notification.accepted.
CREATE TABLE notifications (
  id            uuid        PRIMARY KEY,
  user_id       text        NOT NULL,
  type          text        NOT NULL,
  category      text        NOT NULL,
  severity      text        NOT NULL,
  title         text        NOT NULL,
  message       text        NOT NULL,
  data          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  action_url    text,
  source_type   text        NOT NULL,
  source_id     text        NOT NULL,
  source_key    text        NOT NULL,
  event_id      text,
  occurred_at   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL,
  read_at       timestamptz,
  seen_at       timestamptz,
  archived_at   timestamptz,
  -- per channel: {"in_app": "delivered", "email": "sent", …}
  delivery      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- where in the log this row came from
  kafka_partition integer   NOT NULL,
  kafka_offset    bigint    NOT NULL
);

-- Inbox listing, newest first, with cursor pagination on (created_at, id).
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC, id DESC) WHERE archived_at IS NULL;
-- Unread counts.
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL AND archived_at IS NULL;

-- Projection offsets: the next offset to read per consumer group and partition,
-- written in the same transaction as the rows they produced.
CREATE TABLE consumer_offsets (
  group_id    text    NOT NULL,
  topic       text    NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint  NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
);

-- Down Migration
DROP TABLE consumer_offsets;
DROP TABLE notifications;
