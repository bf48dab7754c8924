-- fosite's grant state: authorization codes, PKCE requests, OpenID Connect
-- sessions, access tokens and refresh tokens (store/oauth2*.go).
--
-- One table with a kind column rather than five of the same shape: every kind
-- holds the same serialised fosite request, revoking a grant or deleting a
-- client is one statement over all kinds, and the janitor has one table to
-- sweep. The refresh-only columns are null for the other kinds (checked below).

create table oauth2_tokens (
    kind                   text not null check (kind in ('code', 'pkce', 'oidc', 'access', 'refresh')),
    -- Hex SHA-256 of the signature fosite passes, or of the raw authorization
    -- code for 'oidc': no bearer secret is stored.
    signature              text not null check (length(signature) = 64),
    -- The grant: a code, its tokens and every rotation of them share it.
    request_id             text not null,
    requested_at           timestamptz not null,
    -- No foreign key: deleting a client deletes its rows through the code
    -- (OAuth2.DeleteClientTokens), and a lookup of a deleted client fails anyway.
    client_id              text not null,
    subject                text not null,
    requested_scope        text[] not null,
    granted_scope          text[] not null,
    requested_audience     text[] not null,
    granted_audience       text[] not null,
    -- The request's form as fosite sanitised it, URL-encoded.
    form_data              text not null,
    -- The session as JSON. bytea rather than jsonb: it is only ever read back
    -- whole, and jsonb would refuse a claim holding \u0000.
    session_data           bytea not null,
    -- false once a code is redeemed or a refresh token rotated; the row stays
    -- so that a replay can be detected and the grant revoked.
    active                 boolean not null default true,
    -- When fosite considers the token expired; null for a refresh token that
    -- never expires on its own.
    expires_at             timestamptz,
    -- Refresh only: when it was first rotated (the reuse grace window counts
    -- from here), the access token issued with it, and the end of the whole
    -- rotation chain however often it is refreshed.
    first_used_at          timestamptz,
    access_token_signature text check (length(access_token_signature) = 64),
    family_expires_at      timestamptz,
    primary key (kind, signature),
    check ((kind = 'refresh') = (family_expires_at is not null)),
    check (kind = 'refresh' or (first_used_at is null and access_token_signature is null))
);

create index oauth2_tokens_request_id_idx on oauth2_tokens (request_id);
create index oauth2_tokens_client_id_idx on oauth2_tokens (client_id);
create index oauth2_tokens_expires_at_idx on oauth2_tokens (expires_at);
create index oauth2_tokens_family_expires_at_idx on oauth2_tokens (family_expires_at) where kind = 'refresh';

---- create above / drop below ----

drop table oauth2_tokens;
