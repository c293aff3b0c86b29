-- HTTP Basic credentials of a phone are kept as given, like SIP passwords: the vendors'
-- redirection services must be told them when the phone is registered there.
ALTER TABLE phones RENAME COLUMN http_password_hash TO http_password;
