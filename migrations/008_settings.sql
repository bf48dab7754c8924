-- Tenant-wide settings an admin changes at run time (the MFA policy first).
-- Every replica reads them through a short cache.

create table settings (
    key        text primary key,
    value      text not null,
    updated_at timestamptz not null default now()
);

---- create above / drop below ----

drop table settings;
