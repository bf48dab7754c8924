-- A pending authenticator setup belongs to the session that began it: the
-- secret is shown, drawn and confirmed only there, so another session of the
-- same user (one holding only the password) never sees it. Setups of one
-- user in different sessions no longer replace each other.

delete from mfa_totp_pending;

alter table mfa_totp_pending
    add column setup_id text not null,
    drop constraint mfa_totp_pending_pkey,
    add primary key (user_id, setup_id);

---- create above / drop below ----

delete from mfa_totp_pending;

alter table mfa_totp_pending
    drop constraint mfa_totp_pending_pkey,
    drop column setup_id,
    add primary key (user_id);
