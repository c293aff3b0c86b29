-- Which provisioning URL the site's LAN relay sends in its SIP PnP NOTIFY: 'relay' (its
-- own HTTP URL, the default) or 'edge' (each phone's steady-state HTTPS URL on this edge,
-- carried in the relay snapshot).
ALTER TABLE sites ADD COLUMN pnp_url TEXT NOT NULL DEFAULT 'relay' CHECK (pnp_url IN ('relay', 'edge'));
