-- Browsers a user asked to remember after passing an SMS challenge: while a
-- row holds, the browser presenting its device token skips the challenge. The
-- token is stored only as its SHA-256.
create table mfa_trusted_browsers (
    id           uuid primary key,
    user_id      uuid not null references users (id) on delete cascade,
    token_hash   bytea not null unique check (length(token_hash) = 32),
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    last_used_at timestamptz not null,
    created_ip   inet,
    user_agent   text not null default ''
);

create index mfa_trusted_browsers_user_id_idx on mfa_trusted_browsers (user_id);
create index mfa_trusted_browsers_expires_at_idx on mfa_trusted_browsers (expires_at);

---- create above / drop below ----

drop table mfa_trusted_browsers;
