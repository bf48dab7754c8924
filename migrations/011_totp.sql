-- Authenticator apps (TOTP). Two tables, because a user who already has an
-- authenticator and sets up a new one keeps using the old one until the new
-- one is confirmed: the pending secret must not overwrite the active one.
-- Secrets are stored only sealed (AES-256-GCM under a key derived from the
-- master key).

-- A secret shown to the user for setup, until confirmed with a code from the
-- app or expired. One per user; starting again replaces it.
create table mfa_totp_pending (
    user_id       uuid primary key references users (id) on delete cascade,
    sealed_secret bytea not null,
    expires_at    timestamptz not null
);

create index mfa_totp_pending_expires_at_idx on mfa_totp_pending (expires_at);

-- The user's one active authenticator. last_step is the last time step
-- (Unix time / 30 s) whose code was accepted: a code of that step or an
-- earlier one is refused, so no code is accepted twice.
create table mfa_totp (
    user_id       uuid primary key references users (id) on delete cascade,
    sealed_secret bytea not null,
    last_step     bigint not null default 0,
    activated_at  timestamptz not null
);

---- create above / drop below ----

drop table mfa_totp;
drop table mfa_totp_pending;
