-- One outbox row per MAC, site and vendor (was: per MAC). With one row per MAC the newest wish
-- won even across accounts: a phone deleted on one site (its removal queued) and added on
-- another before the removal was worked lost the removal, and stayed registered under the old
-- site's account, which would keep redirecting it. Now each account has its own row: the old
-- site's removal and the new site's registration are both carried out. (A phone's site and
-- vendor never change while it exists, so its own rows are unchanged.)
CREATE TABLE rps_outbox_new (
  mac TEXT NOT NULL,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  vendor TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('register', 'remove')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  result TEXT,
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  error_kind TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL,
  known INTEGER NOT NULL DEFAULT 0 CHECK (known IN (0, 1)),
  PRIMARY KEY (mac, site_id, vendor)
);
INSERT INTO rps_outbox_new (mac, site_id, vendor, op, state, result, origin, seq, attempts, next_at,
  lease_until, last_attempt_at, error_kind, error, updated_at, known)
  SELECT mac, site_id, vendor, op, state, result, origin, seq, attempts, next_at, lease_until,
  last_attempt_at, error_kind, error, updated_at, known FROM rps_outbox;
DROP TABLE rps_outbox;
ALTER TABLE rps_outbox_new RENAME TO rps_outbox;
CREATE INDEX rps_outbox_due ON rps_outbox (state, next_at);
CREATE INDEX rps_outbox_site ON rps_outbox (site_id);
