-- One row per authorization request that needs the browser to do something
-- (log in, later enroll or pass MFA) before a code can be issued. /authorize
-- creates it and is the only place that reads it to decide the next step.

create table login_transactions (
    -- SHA-256 of the random id the browser carries in the URL.
    id_hash      bytea primary key check (length(id_hash) = 32),
    client_id    text not null,
    -- The authorization request's parameters, replayed through fosite's
    -- validation when the browser comes back.
    request_form text not null,
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    completed_at timestamptz
);

create index login_transactions_expires_at_idx on login_transactions (expires_at);

---- create above / drop below ----

drop table login_transactions;
