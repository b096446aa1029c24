-- Up Migration
-- Topics a user subscribed to: an event whose audience names a topic reaches its subscribers.
ALTER TABLE recipients ADD COLUMN topics text[] NOT NULL DEFAULT '{}';

-- Down Migration
ALTER TABLE recipients DROP COLUMN topics;
