-- When a passkey last passed in a session, apart from when any second factor
-- last did: a user who holds a passkey changes factors only within minutes
-- of passing one, and a code passed later must not refresh that.

alter table sessions add column passkey_at timestamptz;

---- create above / drop below ----

alter table sessions drop column passkey_at;
