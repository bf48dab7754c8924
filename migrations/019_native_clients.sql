-- Native applications (desktop and mobile): public clients like a spa, with
-- no secret and PKCE required. Only their loopback callbacks may come back on
-- another port; the clients package holds that rule.

alter table oauth_clients
    drop constraint oauth_clients_type_check,
    drop constraint oauth_clients_check,
    add constraint oauth_clients_type_check check (type in ('spa', 'native', 'web', 'm2m')),
    -- spa and native are public and have no secret; web and m2m must have one.
    add constraint oauth_clients_check check ((type in ('spa', 'native')) = (secret_hash is null));

---- create above / drop below ----

-- Refused while a native application exists: delete it first.
alter table oauth_clients
    drop constraint oauth_clients_type_check,
    drop constraint oauth_clients_check,
    add constraint oauth_clients_type_check check (type in ('spa', 'web', 'm2m')),
    add constraint oauth_clients_check check ((type = 'spa') = (secret_hash is null));
