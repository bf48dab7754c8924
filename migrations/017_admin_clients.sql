-- Per-application token lifetimes set in the admin console. Null follows the
-- tenant's lifetime; the bounds mirror the clients package's rules.

alter table oauth_clients
    add column id_token_lifetime_seconds integer
        check (id_token_lifetime_seconds between 60 and 2592000),
    add column refresh_idle_lifetime_seconds integer
        check (refresh_idle_lifetime_seconds between 60 and 31536000),
    add column refresh_absolute_lifetime_seconds integer
        check (refresh_absolute_lifetime_seconds between 60 and 31536000);

---- create above / drop below ----

alter table oauth_clients
    drop column refresh_absolute_lifetime_seconds,
    drop column refresh_idle_lifetime_seconds,
    drop column id_token_lifetime_seconds;
