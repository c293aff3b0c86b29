-- Whether star-code self-binding wants the user's voicemail PIN after the extension
-- (*123*200*<pin>): 0 (off, the default) or 1.
ALTER TABLE sites ADD COLUMN star_code_pin INTEGER NOT NULL DEFAULT 0 CHECK (star_code_pin IN (0, 1));
