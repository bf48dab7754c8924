-- OAuth clients ("applications") and the APIs their access tokens are for.
-- The rules for URLs and names live in the clients package; the checks here
-- only keep rows that no code path should write out of the table.

create table oauth_clients (
    id          text primary key check (length(id) between 1 and 64),
    name        text not null check (length(name) between 1 and 100),
    type        text not null check (type in ('spa', 'web', 'm2m')),
    -- SHA-256 of the secret; a spa is public and has none, web and m2m must.
    secret_hash bytea check (length(secret_hash) = 32),
    callbacks   text[] not null default '{}',
    logout_urls text[] not null default '{}',
    web_origins text[] not null default '{}',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    check ((type = 'spa') = (secret_hash is null))
);

create table apis (
    id                     uuid primary key default gen_random_uuid(),
    -- The audience a client asks for and the aud claim of its access tokens.
    identifier             text not null unique check (length(identifier) between 1 and 255),
    name                   text not null check (length(name) between 1 and 100),
    token_lifetime_seconds integer not null check (token_lifetime_seconds between 60 and 2592000),
    created_at             timestamptz not null default now()
);

---- create above / drop below ----

drop table apis;
drop table oauth_clients;
