-- Whether the site's LAN relay serves TFTP (issue 16): off unless the site turns it on (or
-- the relay's own configuration does). TFTP has no authentication and no encryption: it is
-- for trusted LANs only, as in MikoPBX's module.
ALTER TABLE sites ADD COLUMN tftp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (tftp_enabled IN (0, 1));
