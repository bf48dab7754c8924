-- Passkeys and security keys (WebAuthn). A credential is the public half of a
-- key pair that lives in an authenticator (a phone's or computer's password
-- manager, or a hardware key); the private half never leaves it.

-- id is the credential id the authenticator chose; it is unique across users
-- because a sign-in without a username finds the user by it. sign_count is the
-- authenticator's signature counter: authenticators that keep one report a
-- higher value each time, so a lower one means a copy of the key is in use,
-- and clone_warning then refuses the credential for good. backup_eligible
-- (the key can be synced to other devices) never changes; backup_state (it
-- has been synced) may, and is kept current at each sign-in.
create table webauthn_credentials (
    id                 bytea primary key check (length(id) between 1 and 1023),
    user_id            uuid not null references users (id) on delete cascade,
    name               text not null check (length(name) between 1 and 64),
    public_key         bytea not null,
    sign_count         bigint not null default 0 check (sign_count >= 0),
    aaguid             bytea not null default '\x00000000000000000000000000000000',
    transports         text[] not null default '{}',
    attachment         text not null default '' check (attachment in ('', 'platform', 'cross-platform')),
    backup_eligible    boolean not null default false,
    backup_state       boolean not null default false,
    user_verified      boolean not null default false,
    attestation_format text not null default 'none',
    clone_warning      boolean not null default false,
    created_at         timestamptz not null,
    last_used_at       timestamptz
);

create index webauthn_credentials_user_id_idx on webauthn_credentials (user_id);

-- A registration or sign-in in progress: the challenge sent to the browser
-- and what the answer is checked against. Kept here rather than in a cookie
-- or in memory so that any replica can finish what another began; finishing
-- deletes the row, so a ceremony is answered at most once. binding ties it to
-- the browser that began it (a hash of its session or pre-login cookie).
create table webauthn_ceremonies (
    id           text primary key,
    binding      text not null,
    kind         text not null check (kind in ('register', 'login', 'discoverable')),
    user_id      uuid references users (id) on delete cascade,
    session_data jsonb not null,
    expires_at   timestamptz not null,
    check ((kind = 'discoverable') = (user_id is null))
);

create index webauthn_ceremonies_expires_at_idx on webauthn_ceremonies (expires_at);

---- create above / drop below ----

drop table webauthn_ceremonies;
drop table webauthn_credentials;
