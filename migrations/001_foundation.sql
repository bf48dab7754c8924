-- Users, browser sessions, brute-force counters and the audit log.

create table users (
    id                  uuid primary key default gen_random_uuid(),
    email               text not null check (length(email) between 3 and 254),
    email_verified      boolean not null default false,
    name                text not null default '' check (length(name) <= 200),
    -- PHC string (argon2id) or an imported bcrypt hash; null means the user cannot
    -- log in with a password.
    password_hash       text,
    admin               boolean not null default false,
    blocked             boolean not null default false,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    password_changed_at timestamptz,
    last_login_at       timestamptz
);

-- Email addresses are unique regardless of case; lookups use the same expression.
create unique index users_email_lower_key on users (lower(email));

create table sessions (
    -- SHA-256 of the random 256-bit cookie value; the value itself is never stored.
    id_hash         bytea primary key check (length(id_hash) = 32),
    user_id         uuid not null references users (id) on delete cascade,
    auth_time       timestamptz not null,
    amr             text[] not null,
    ip              inet,
    user_agent      text not null default '',
    created_at      timestamptz not null,
    last_seen_at    timestamptz not null,
    idle_expires_at timestamptz not null,
    expires_at      timestamptz not null
);

create index sessions_user_id_idx on sessions (user_id);
create index sessions_idle_expires_at_idx on sessions (idle_expires_at);

-- Consecutive failed logins for one account name from one address. Unknown
-- account names are counted too, so a lockout says nothing about whether an
-- account exists.
create table login_failures (
    email_key       text not null,
    ip              inet not null,
    consecutive     integer not null,
    last_failure_at timestamptz not null,
    primary key (email_key, ip)
);

-- Failed logins per address per hour, summed over a sliding day.
create table ip_login_failures (
    ip              inet not null,
    hour            timestamptz not null,
    failures        integer not null,
    last_failure_at timestamptz not null,
    primary key (ip, hour)
);

create table audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null,
    event      text not null,
    -- No foreign key: the trail must outlive a deleted user.
    user_id    uuid,
    subject    text not null default '',
    ip         inet,
    user_agent text not null default '',
    request_id text not null default '',
    details    jsonb not null default '{}'
);

create index audit_log_at_idx on audit_log (at);
create index audit_log_user_id_at_idx on audit_log (user_id, at) where user_id is not null;
create index audit_log_event_at_idx on audit_log (event, at);

---- create above / drop below ----

drop table audit_log;
drop table ip_login_failures;
drop table login_failures;
drop table sessions;
drop table users;
