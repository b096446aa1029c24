-- Up Migration
-- A socket's resume (src/websocket/resume.ts): a user's notifications after a
-- place in their partition of notification.inbox, in offset order.
CREATE INDEX notifications_stream ON notifications (user_id, kafka_partition, kafka_offset);

-- Down Migration
DROP INDEX notifications_stream;
