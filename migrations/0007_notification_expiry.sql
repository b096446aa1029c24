-- Up Migration
-- A notification's expiry (NotificationEvent.expires_at): after it the row
-- leaves the inbox listing, the unread count and a socket's resume, and the
-- cleanup (src/processors/projector/cleanup.ts) deletes it. NULL: never.
-- The inbox and unread partial indexes stay as they are: expiry cannot be part
-- of an index predicate (now() is not immutable), so the queries filter it on
-- the rows those indexes find.
ALTER TABLE notifications ADD COLUMN expires_at timestamptz;
-- The cleanup's batches: expired rows, earliest expiry first.
CREATE INDEX notifications_expiry ON notifications (expires_at) WHERE expires_at IS NOT NULL;

-- Down Migration
DROP INDEX notifications_expiry;
ALTER TABLE notifications DROP COLUMN expires_at;
