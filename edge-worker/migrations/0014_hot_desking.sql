-- Hot-desking (issue 16): whether a phone that is already bound may be bound to another
-- extension by star code. Off (0) by default: it lets anyone at a bound phone who can bind
-- (the PIN, an approval) move that phone, and its SIP password, to another user.
ALTER TABLE sites ADD COLUMN hot_desking INTEGER NOT NULL DEFAULT 0 CHECK (hot_desking IN (0, 1));
