-- Email: the mail outbox, address verification links and password resets.
--
-- Links carry a random 256-bit token; only its SHA-256 is stored. A link
-- works once (used_at) and until expires_at; rows are kept a week past their
-- expiry so that an old link is refused as expired rather than unknown.

-- The mail outbox has the shape and the lease rules of the SMS outbox (see
-- 007): a mail is a row in the transaction that stores its token, and every
-- replica dispatches rows.
create table mail_outbox (like sms_outbox including defaults including constraints including indexes);
alter table mail_outbox add constraint mail_outbox_user_id_fkey
    foreign key (user_id) references users (id) on delete set null;

create table email_verifications (
    token_hash bytea primary key check (length(token_hash) = 32),
    user_id    uuid not null references users (id) on delete cascade,
    -- The address the link was sent to: a link for an old address verifies nothing.
    email      text not null,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at    timestamptz
);

create index email_verifications_user_id_idx on email_verifications (user_id);
create index email_verifications_expires_at_idx on email_verifications (expires_at);

-- One password reset: its own small state, never a login session. A user with
-- a second factor passes it (second_factor_at) before the password may change.
create table password_resets (
    id               uuid primary key default gen_random_uuid(),
    token_hash       bytea not null unique check (length(token_hash) = 32),
    user_id          uuid not null references users (id) on delete cascade,
    ip               inet,
    created_at       timestamptz not null,
    expires_at       timestamptz not null,
    -- The SMS challenge started for this reset, if any (mfa_challenges.id).
    challenge_id     text not null default '',
    second_factor_at timestamptz,
    used_at          timestamptz
);

create index password_resets_user_id_idx on password_resets (user_id);
create index password_resets_expires_at_idx on password_resets (expires_at);

---- create above / drop below ----

drop table password_resets;
drop table email_verifications;
drop table mail_outbox;
