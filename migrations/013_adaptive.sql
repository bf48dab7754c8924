-- Adaptive MFA: a session remembers the decision made for it (so one login
-- is assessed once), a login transaction keeps the assessment for admins, and
-- applications may choose the adaptive policy too.

alter table sessions
    add column risk_decision text not null default '' check (risk_decision in ('', 'allow', 'challenge'));

alter table login_transactions add column assessment jsonb;

alter table oauth_clients drop constraint oauth_clients_mfa_policy_check;
alter table oauth_clients
    add constraint oauth_clients_mfa_policy_check check (mfa_policy in ('', 'never', 'always', 'adaptive'));

---- create above / drop below ----

alter table oauth_clients drop constraint oauth_clients_mfa_policy_check;
alter table oauth_clients
    add constraint oauth_clients_mfa_policy_check check (mfa_policy in ('', 'never', 'always'));
alter table login_transactions drop column assessment;
alter table sessions drop column risk_decision;
