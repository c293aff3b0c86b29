-- Whether the site's account registered the phone before (a finished registration, not yet
-- removed): a re-registration then looks the phone up first where the vendor's "add" refuses a
-- known MAC (Yealink, ALE: list and edit, two calls instead of add, list, edit). A hint only:
-- either way the result is the same. Kept across new wishes for the same MAC.
ALTER TABLE rps_outbox ADD COLUMN known INTEGER NOT NULL DEFAULT 0 CHECK (known IN (0, 1));
-- Phones registered before this column existed (Yealink, ALE: the only users of the hint).
UPDATE rps_outbox SET known = 1 WHERE op = 'register' AND state = 'done' AND vendor IN ('yealink', 'ale');
