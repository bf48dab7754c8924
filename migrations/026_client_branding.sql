-- Each application's look on the hosted pages: display name, logo (a link
-- or an uploaded image) and colours. Empty text follows the tenant's
-- defaults, kept in settings. The bounds mirror the branding package's
-- rules; an uploaded logo and a logo link exclude each other.

create table client_branding (
    client_id        text primary key references oauth_clients (id) on delete cascade,
    name             text not null default '' check (char_length(name) <= 64),
    logo_url         text not null default '' check (logo_url = '' or (logo_url like 'https://%' and octet_length(logo_url) <= 2048)),
    primary_color    text not null default '' check (primary_color ~ '^(#[0-9a-f]{6})?$'),
    background_color text not null default '' check (background_color ~ '^(#[0-9a-f]{6})?$'),
    logo_type        text not null default '' check (logo_type in ('', 'image/png', 'image/jpeg', 'image/webp')),
    logo_sum         text not null default '',
    logo             bytea check (octet_length(logo) <= 102400),
    updated_at       timestamptz not null default now(),
    check ((logo_type = '') = (logo is null)),
    check (logo_type = '' or logo_url = '')
);

---- create above / drop below ----

drop table client_branding;
