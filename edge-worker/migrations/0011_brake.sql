-- The guessing brake (issue 15, finding 3).
-- A miss counter is keyed by what it counts: a client address (`ip:` and engine::client_key,
-- IPv6 per /64) or a phone named under a site URL (`mac:<mac>:<site>`). `expires_at` is when
-- the row no longer holds a window or a cool-off: the admin worker's cron deletes it then.
-- Rows of before (keyed by the bare address) are no longer read; the cron deletes them.
ALTER TABLE misses RENAME COLUMN ip TO key;
ALTER TABLE misses ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE misses SET expires_at = MAX(locked_until, window_start + 600);
CREATE INDEX misses_expires ON misses (expires_at);

-- The site token's generation: bumped to rotate the site URL (`/s/<site>/<token>/`).
-- Generation 0 is the token of before, so URLs set at a redirection service keep working.
ALTER TABLE sites ADD COLUMN site_token_generation INTEGER NOT NULL DEFAULT 0;
