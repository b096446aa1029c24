-- Up Migration
-- Every read event of notification.reads (read, read_all, archive), kept so
-- that a notification projected after its read events (the log replayed by
-- `tidings rebuild`, where notification.reads and notification.inbox are
-- read side by side) gets the read state they gave it. One row per record:
-- the projector's place in notification.reads is its key.
CREATE TABLE notification_read_events (
  kafka_partition  integer     NOT NULL,
  kafka_offset     bigint      NOT NULL,
  user_id          text        NOT NULL,
  action           text        NOT NULL,
  notification_id  uuid,
  -- read_all: notifications created at or before it
  before           timestamptz,
  at               timestamptz NOT NULL,
  PRIMARY KEY (kafka_partition, kafka_offset)
);
CREATE INDEX notification_read_events_by_user ON notification_read_events (user_id, action);
