-- The SMS outbox: every text message Gatehouse sends is first a row here,
-- inserted in the same transaction as the challenge it carries the code for.
-- Every replica runs a dispatcher that claims due rows (FOR UPDATE SKIP LOCKED),
-- sends them outside any transaction and records the outcome, so a provider
-- outage or a crashed replica loses no message. Delivery reports update the row.
--
--   queued ──claim──▶ sending ──▶ sent ──report──▶ delivered | undelivered | failed
--     ▲                  │
--     └──temporary error─┤──▶ failed (permanent error, or out of attempts)
--                        └──▶ expired (the code ran out before it could go)

create table sms_outbox (
    -- Also the message id handed to the provider, and the additional data the
    -- sealed message is bound to.
    id                  uuid primary key default gen_random_uuid(),
    challenge_id        text not null default '',
    user_id             uuid references users (id) on delete set null,
    purpose             text not null,
    country_code        integer not null default 0,
    -- Recipient, text and code, AES-256-GCM under a key derived from the master
    -- key: the code never sits in the clear. Emptied once the row is finished.
    sealed              bytea not null,
    status              text not null default 'queued' check (status in
                            ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'expired')),
    attempts            integer not null default 0,
    next_attempt_at     timestamptz not null,
    lease_owner         text,
    lease_expires_at    timestamptz,
    provider            text not null default '',
    provider_message_id text,
    last_error          text not null default '',
    error_code          text not null default '',
    created_at          timestamptz not null,
    -- The code is useless after this: the row is never sent past it.
    expires_at          timestamptz not null,
    sent_at             timestamptz,
    delivered_at        timestamptz,
    updated_at          timestamptz not null
);

-- What dispatchers claim: queued rows and rows whose sender's lease ran out.
create index sms_outbox_due_idx on sms_outbox (next_attempt_at) where status in ('queued', 'sending');

-- Delivery reports name the message by the provider's id.
create unique index sms_outbox_provider_message_key on sms_outbox (provider, provider_message_id)
    where provider_message_id is not null;

create index sms_outbox_created_at_idx on sms_outbox (created_at);

---- create above / drop below ----

drop table sms_outbox;
