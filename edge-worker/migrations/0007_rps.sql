-- The vendors' redirection services (RPS).
--
-- A site's private RPS accounts, one row per vendor. `sealed` is the account as one canonical
-- INI section, encrypted with AES-256-GCM under the Worker secret RPS_KEY (base64 of a 12-byte
-- nonce followed by the ciphertext and tag; the additional data is "rps-account\0<site>\0<vendor>",
-- so a row copied to another site or vendor does not open). `summary` holds only what the console
-- may show (JSON, no secret). A vendor rate-limits the whole account: `paused_until` (Unix
-- seconds) holds every call to it until then. `server_id` caches the vendor's server/group id.
CREATE TABLE rps_accounts (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  vendor TEXT NOT NULL CHECK (vendor IN ('yealink', 'ale', 'grandstream', 'fanvil', 'htek', 'snom')),
  sealed TEXT NOT NULL,
  summary TEXT NOT NULL,
  server_id TEXT,
  paused_until INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, vendor)
);

-- The outbox, and each phone's RPS status: one row per MAC. A change to a phone replaces its
-- row (the newest wish wins: register after register is one call, remove after register is a
-- removal), so a burst of edits costs one call per phone. `state`: pending (due at `next_at`),
-- done (`result` says how), failed (a person must act: `error_kind`, `error`). `lease_until`
-- keeps the request's waitUntil and the Cron Trigger from working the same row at once.
-- `origin` is the edge's public origin when the change was made (the URL registered is
-- <origin>/p/<steady-state token>). No secret is stored here.
CREATE TABLE rps_outbox (
  mac TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  vendor TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('register', 'remove')),
  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
  result TEXT,
  origin TEXT NOT NULL,
  -- Bumped by every change: a worker finishing an older wish leaves a newer one alone.
  seq INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  error_kind TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX rps_outbox_due ON rps_outbox (state, next_at);
CREATE INDEX rps_outbox_site ON rps_outbox (site_id);

-- A Yealink "RPS pin" (devices made before 2018): issued by the vendor, never derivable; kept
-- once known so the console can show it to the person at the desk. Letters and digits, <= 31.
ALTER TABLE phones ADD COLUMN rps_pin TEXT;
