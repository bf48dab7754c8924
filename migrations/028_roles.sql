-- Role-based access control as Auth0 has it: an API's scopes are its
-- permissions, a role groups permissions of any APIs, users hold roles. An
-- API's RBAC settings live beside it rather than on apis, so that they stay
-- the roles package's own.

create table roles (
    id          uuid primary key default gen_random_uuid(),
    name        text not null unique check (length(name) between 1 and 100),
    description text not null default '' check (length(description) <= 200),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- A permission is one of an API's scopes: when the API drops the scope, the
-- roles lose it with it.
create table role_permissions (
    role_id uuid not null references roles (id) on delete cascade,
    api_id  uuid not null,
    value   text not null,
    primary key (role_id, api_id, value),
    foreign key (api_id, value) references api_scopes (api_id, value) on delete cascade
);

create index role_permissions_scope_idx on role_permissions (api_id, value);

create table user_roles (
    user_id    uuid not null references users (id) on delete cascade,
    role_id    uuid not null references roles (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (user_id, role_id)
);

create index user_roles_role_id_idx on user_roles (role_id);

-- Auth0's "Enable RBAC" (enforce: user tokens get only the requested scopes
-- the user holds as permissions) and "Add Permissions in the Access Token".
create table api_rbac (
    api_id            uuid primary key references apis (id) on delete cascade,
    enforce           boolean not null default false,
    token_permissions boolean not null default false,
    updated_at        timestamptz not null default now()
);

-- Custom claims without code: per application, a claim name (a URL) gets
-- a source (a user attribute) in the ID token, the access token or both.
create table client_claims (
    client_id text not null references oauth_clients (id) on delete cascade,
    claim     text not null check (length(claim) between 1 and 200),
    source    text not null check (length(source) between 1 and 200),
    target    text not null check (target in ('id_token', 'access_token', 'both')),
    position  integer not null,
    primary key (client_id, claim)
);

---- create above / drop below ----

drop table client_claims;
drop table api_rbac;
drop table user_roles;
drop table role_permissions;
drop table roles;
