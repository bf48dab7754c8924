-- A per-application MFA policy that overrides the tenant's ('' = use it), and
-- the history of tenant settings: who changed what, when.

alter table oauth_clients
    add column mfa_policy text not null default '' check (mfa_policy in ('', 'never', 'always'));

create table settings_history (
    id         bigint generated always as identity primary key,
    key        text not null,
    value      text not null,
    changed_by text not null default '',
    changed_at timestamptz not null default now()
);

create index settings_history_key_idx on settings_history (key, changed_at);

---- create above / drop below ----

drop table settings_history;
alter table oauth_clients drop column mfa_policy;
