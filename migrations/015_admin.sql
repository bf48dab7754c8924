-- The admin API: APIs declare the scopes (permissions) their tokens may
-- carry, and a machine-to-machine client gets an API's scopes only through a
-- grant, as in Auth0. The admin API is one such API.

create table api_scopes (
    api_id      uuid not null references apis (id) on delete cascade,
    value       text not null check (value ~ '^[A-Za-z0-9:._/-]{1,100}$'),
    description text not null default '' check (length(description) <= 200),
    primary key (api_id, value)
);

create table client_grants (
    client_id  text not null references oauth_clients (id) on delete cascade,
    api_id     uuid not null references apis (id) on delete cascade,
    scopes     text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (client_id, api_id)
);

create index client_grants_api_id_idx on client_grants (api_id);

---- create above / drop below ----

drop table client_grants;
drop table api_scopes;
