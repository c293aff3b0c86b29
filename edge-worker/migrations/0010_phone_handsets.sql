-- DECT bases: the users on a base's handset slots after the first (slot 1 is the phone's
-- own user_id). Each handset has its own account; the base's config assigns it there.
CREATE TABLE phone_handsets (
  phone_id TEXT NOT NULL REFERENCES phones(id) ON DELETE CASCADE,
  slot INTEGER NOT NULL CHECK (slot >= 2 AND slot <= 255),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (phone_id, slot)
);
CREATE INDEX phone_handsets_user ON phone_handsets (user_id);
