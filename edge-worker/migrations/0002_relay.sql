-- Re-provision and reboot requests the admin queues for a site's LAN relay, which sends
-- each phone a SIP NOTIFY (check-sync) and acknowledges the outcome.
-- status: pending (queued) -> collected (handed to the relay; handed out again if not
-- acknowledged in time) -> done | failed (the relay's answer, or given up after too many
-- deliveries).
CREATE TABLE relay_actions (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  phone_id TEXT NOT NULL REFERENCES phones(id) ON DELETE CASCADE,
  action TEXT NOT NULL CHECK (action IN ('reprovision', 'reboot')),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'collected', 'done', 'failed')),
  requested_at INTEGER NOT NULL,
  collected_at INTEGER,
  finished_at INTEGER,
  -- How many times the relay was handed this action.
  deliveries INTEGER NOT NULL DEFAULT 0,
  -- The relay's words on the outcome (or why it was given up).
  detail TEXT NOT NULL DEFAULT ''
);

-- At most one pending request per phone and action: queueing it again is a no-op.
CREATE UNIQUE INDEX relay_actions_pending ON relay_actions (phone_id, action) WHERE status = 'pending';
-- The relay's collect (pending, or collected long ago) and the admin list, per site.
CREATE INDEX relay_actions_site_status ON relay_actions (site_id, status, requested_at);
CREATE INDEX relay_actions_site_requested ON relay_actions (site_id, requested_at);
-- Deleting a phone deletes its actions.
CREATE INDEX relay_actions_phone ON relay_actions (phone_id);

-- Discovery: a phone the relay reports and no site has becomes a row of phones with user_id
-- NULL and discovered_via = 'pnp' | 'tftp' | 'http'. Its LAN address, as the relay last
-- reported it, is kept apart from last_ip (which the edge sets to the address a fetch came
-- from, usually the site's public NAT address): it is where the relay sends the NOTIFY.
ALTER TABLE phones ADD COLUMN lan_ip TEXT;
ALTER TABLE phones ADD COLUMN lan_seen_at INTEGER;
