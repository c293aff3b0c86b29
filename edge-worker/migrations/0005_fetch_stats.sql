-- Config fetches per site, hour and vendor, for the console's 24-hour chart. Written in the
-- same D1 batch as the phone's last-seen columns (store::record_fetch); one row per site,
-- hour and vendor that saw a fetch, so a day is at most 24 x 5 rows a site. Rows older than
-- two days are removed on the way (the chart never shows them).
CREATE TABLE fetch_stats (
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  -- Unix seconds of the hour's start (a multiple of 3600, UTC).
  hour INTEGER NOT NULL,
  vendor TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (site_id, hour, vendor)
);
