-- RS256 keys that sign ID tokens and JWT access tokens (package keys). Each is
-- 'next' (published, not yet signing), 'current' (signs) or 'retired' (still
-- published until its tokens have expired, then purged).

create table signing_keys (
    kid          text primary key check (length(kid) between 1 and 100),
    state        text not null check (state in ('next', 'current', 'retired')),
    -- AES-256-GCM under a key derived from GATEHOUSE_SECRET_KEY, with the kid as
    -- additional data: nonce || sealed PKCS#8 DER.
    ciphertext   bytea not null,
    created_at   timestamptz not null,
    activated_at timestamptz,
    retired_at   timestamptz,
    check ((state = 'retired') = (retired_at is not null))
);

-- At most one key signs and at most one waits to.
create unique index signing_keys_one_current on signing_keys (state) where state = 'current';
create unique index signing_keys_one_next on signing_keys (state) where state = 'next';

---- create above / drop below ----

drop table signing_keys;
