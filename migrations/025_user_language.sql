-- The language a user chose on the account page for the hosted pages, text
-- messages and mails (a BCP 47 tag Gatehouse ships a catalogue for); null
-- leaves the choice to the application's ui_locales, the browser and the
-- tenant's default.

alter table users add column language text
	check (language is null or (length(language) between 2 and 35 and language ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'));

---- create above / drop below ----

alter table users drop column language;
