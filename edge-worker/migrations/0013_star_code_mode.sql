-- Who may bind a phone by star code (issue 15, finding 1): 'pin' (the user's voicemail PIN
-- follows the extension), 'approval' (an administrator approves each binding) or 'open'
-- (the extension alone). NULL: a site from before the setting, which keeps what
-- star_code_pin says and is warned about in the console until an administrator chooses.
-- Sites that already wanted the PIN have chosen.
ALTER TABLE sites ADD COLUMN star_code_mode TEXT
  CHECK (star_code_mode IS NULL OR star_code_mode IN ('pin', 'approval', 'open'));
UPDATE sites SET star_code_mode = 'pin' WHERE star_code_pin = 1;

-- Bindings dialled on a site in 'approval' mode, waiting for an administrator: one per phone
-- (a later request replaces it); approving binds the phone, rejecting deletes the row.
CREATE TABLE binding_requests (
  phone_id TEXT PRIMARY KEY REFERENCES phones(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  requested_at INTEGER NOT NULL
);
CREATE INDEX binding_requests_site ON binding_requests (site_id, requested_at);
