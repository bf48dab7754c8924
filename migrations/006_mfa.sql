-- The SMS second factor: verified phones, challenges, recovery codes, per-user
-- failure counters and the send counters behind the anti-fraud limits. Phone
-- numbers are stored only sealed (AES-256-GCM) next to an HMAC for equality
-- lookups; codes only as HMACs.

-- One verified phone per user for now.
create table mfa_factors (
    id           uuid primary key,
    user_id      uuid not null unique references users (id) on delete cascade,
    phone_sealed bytea not null,
    phone_lookup bytea not null check (length(phone_lookup) = 32),
    masked       text not null,
    created_at   timestamptz not null,
    verified_at  timestamptz not null
);

create index mfa_factors_phone_lookup_idx on mfa_factors (phone_lookup);

-- One code sent (and perhaps resent) for one login transaction.
create table mfa_challenges (
    id           uuid primary key,
    user_id      uuid not null references users (id) on delete cascade,
    tx_id        text not null,
    purpose      text not null check (purpose in ('enroll', 'challenge')),
    phone_sealed bytea not null,
    phone_lookup bytea not null check (length(phone_lookup) = 32),
    masked       text not null,
    country_code integer not null,
    app_name     text not null default '',
    issuer_host  text not null default '',
    code_hash    bytea not null check (length(code_hash) = 32),
    attempts     integer not null default 0,
    sends        integer not null default 1,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    last_sent_at timestamptz not null,
    used_at      timestamptz,
    -- Set when the last allowed wrong code ends the challenge.
    ended_at     timestamptz
);

create index mfa_challenges_expires_at_idx on mfa_challenges (expires_at);
create index mfa_challenges_user_id_idx on mfa_challenges (user_id, phone_lookup);

create table mfa_recovery_codes (
    user_id    uuid not null references users (id) on delete cascade,
    code_hash  bytea not null check (length(code_hash) = 32),
    created_at timestamptz not null,
    used_at    timestamptz,
    primary key (user_id, code_hash)
);

-- Consecutive failed codes of a user across challenges, resends and recovery
-- codes; only a success resets them (NIST 800-63B throttling).
create table mfa_user_failures (
    user_id         uuid primary key references users (id) on delete cascade,
    consecutive     integer not null default 0,
    total           bigint not null default 0,
    last_failure_at timestamptz,
    locked_until    timestamptz,
    -- Locked until an administrator resets MFA.
    account_locked  boolean not null default false
);

-- Sends per fixed window for the anti-fraud limits. key names what is counted
-- and the window length ("phone:<lookup hex>/600s", "ip:192.0.2.1/3600s",
-- "user:<id>/3600s", "cc:44/3600s", "global/3600s"); window_start is the send
-- time truncated to that length. A row is useless after window_end.
create table sms_send_counters (
    key          text not null,
    window_start timestamptz not null,
    window_end   timestamptz not null,
    count        integer not null,
    primary key (key, window_start)
);

create index sms_send_counters_window_end_idx on sms_send_counters (window_end);

---- create above / drop below ----

drop table sms_send_counters;
drop table mfa_user_failures;
drop table mfa_recovery_codes;
drop table mfa_challenges;
drop table mfa_factors;
