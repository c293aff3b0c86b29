-- The inventory. Secrets: SIP passwords and PINs are stored as given (they must be rendered
-- into configs); URL tokens only as SHA-256 hashes; nothing rendered is ever stored.
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  pbx_host TEXT NOT NULL,
  pbx_port INTEGER NOT NULL DEFAULT 5060,
  allow_macs TEXT NOT NULL DEFAULT '',
  deny_macs TEXT NOT NULL DEFAULT '',
  additional_params TEXT NOT NULL DEFAULT '',
  poll_interval_minutes INTEGER NOT NULL DEFAULT 1440,
  star_code_pattern TEXT NOT NULL DEFAULT '',
  ntp_server TEXT,
  timezone TEXT,
  language TEXT,
  window_secs INTEGER NOT NULL DEFAULT 604800,
  relay_token_hash TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  extension TEXT NOT NULL,
  auth_name TEXT NOT NULL,
  sip_password TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  voicemail_pin TEXT NOT NULL DEFAULT '',
  UNIQUE (site_id, extension)
);

CREATE TABLE templates (
  id TEXT PRIMARY KEY,
  site_id TEXT REFERENCES sites(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  vendor TEXT NOT NULL,
  style TEXT NOT NULL DEFAULT 'placeholder',
  composition TEXT NOT NULL DEFAULT 'overlay',
  source TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (site_id, name)
);

CREATE TABLE phones (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  mac TEXT NOT NULL UNIQUE,
  vendor TEXT NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  serial_number TEXT NOT NULL DEFAULT '',
  user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  template_id TEXT REFERENCES templates(id) ON DELETE SET NULL,
  -- First-access token (given to the vendor's RPS) and steady-state token, as SHA-256.
  token1_hash TEXT UNIQUE,
  token2_hash TEXT NOT NULL UNIQUE,
  token_generation INTEGER NOT NULL DEFAULT 0,
  -- Optional HTTP Basic credentials the phone must also present.
  http_user TEXT,
  http_password_hash TEXT,
  -- Provisioning window: secrets are served for window_secs after assigned_at until the
  -- first fetch; the admin reopens it by setting assigned_at to now.
  assigned_at INTEGER NOT NULL,
  first_fetch_at INTEGER,
  discovered_via TEXT NOT NULL DEFAULT 'admin',
  last_ip TEXT,
  last_user_agent TEXT,
  last_firmware TEXT,
  last_file TEXT,
  last_seen_at INTEGER
);

CREATE TABLE blf_keys (
  phone_id TEXT NOT NULL REFERENCES phones(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  extension TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  line INTEGER NOT NULL DEFAULT 1,
  pickup_prefix TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (phone_id, position)
);

CREATE TABLE uri_mappings (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  template_id TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  UNIQUE (site_id, path)
);

CREATE TABLE phonebook_sources (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 100
);

CREATE TABLE phonebook_entries (
  source_id TEXT NOT NULL REFERENCES phonebook_sources(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  number TEXT NOT NULL,
  PRIMARY KEY (source_id, position)
);

CREATE TABLE firmware (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  vendor TEXT NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  file_name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT,
  r2_key TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  UNIQUE (site_id, vendor, file_name)
);

-- Failed look-ups per client address (the MAC/token-guessing brake).
CREATE TABLE misses (
  ip TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);

CREATE INDEX users_site ON users (site_id);
CREATE INDEX phones_site ON phones (site_id);
CREATE INDEX firmware_site_vendor ON firmware (site_id, vendor);
CREATE INDEX audit_log_at ON audit_log (at);
