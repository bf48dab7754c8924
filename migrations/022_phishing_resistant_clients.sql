-- An application may require a passkey at every login: the
-- phishing_resistant policy, which no SMS or app code satisfies.

alter table oauth_clients drop constraint oauth_clients_mfa_policy_check;
alter table oauth_clients
    add constraint oauth_clients_mfa_policy_check
    check (mfa_policy in ('', 'never', 'always', 'adaptive', 'phishing_resistant'));

---- create above / drop below ----

update oauth_clients set mfa_policy = 'always' where mfa_policy = 'phishing_resistant';
alter table oauth_clients drop constraint oauth_clients_mfa_policy_check;
alter table oauth_clients
    add constraint oauth_clients_mfa_policy_check check (mfa_policy in ('', 'never', 'always', 'adaptive'));
