-- Successful logins, which the adaptive MFA signals compare a new login with:
-- the browser (only the SHA-256 of its device cookie), the address and the
-- country it was located in then.
create table login_history (
    id          bigint generated always as identity primary key,
    user_id     uuid not null references users (id) on delete cascade,
    at          timestamptz not null,
    ip          inet,
    -- ISO 3166-1 alpha-2; empty when the address could not be located.
    country     text not null default '',
    device_hash bytea check (length(device_hash) = 32)
);

create index login_history_user_at_idx on login_history (user_id, at desc);
create index login_history_user_device_idx on login_history (user_id, device_hash);

---- create above / drop below ----

drop table login_history;
