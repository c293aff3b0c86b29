-- Phonebook sources that fetch (issue 16 item 5): a source is a pasted list (url NULL) or a
-- URL fetched every fetch_minutes, by the edge (a public host) or the site's relay (a LAN
-- host: private, loopback, link-local, CGNAT, ULA, localhost-like). Its entries stay in
-- phonebook_entries; a failed fetch keeps them and records only its error.
ALTER TABLE phonebook_sources ADD COLUMN url TEXT;
ALTER TABLE phonebook_sources ADD COLUMN fetch_minutes INTEGER NOT NULL DEFAULT 60;
-- 'edge' or 'relay' (engine::Fetcher), set when the URL is saved; NULL for a list.
ALTER TABLE phonebook_sources ADD COLUMN fetched_by TEXT;
-- When the edge's cron fetches it next (seconds since the epoch).
ALTER TABLE phonebook_sources ADD COLUMN next_fetch_at INTEGER NOT NULL DEFAULT 0;
-- The last "fetch now" request, which the relay sees in its snapshot.
ALTER TABLE phonebook_sources ADD COLUMN fetch_requested_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phonebook_sources ADD COLUMN last_fetch_at INTEGER;
ALTER TABLE phonebook_sources ADD COLUMN last_ok_at INTEGER;
ALTER TABLE phonebook_sources ADD COLUMN last_count INTEGER;
ALTER TABLE phonebook_sources ADD COLUMN last_format TEXT;
ALTER TABLE phonebook_sources ADD COLUMN last_error TEXT;
CREATE INDEX phonebook_sources_due ON phonebook_sources (fetched_by, next_fetch_at);
