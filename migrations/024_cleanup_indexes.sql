-- The janitor deletes in bounded batches, each finding its rows through an
-- index on the cut-off column; without one, every batch would read the whole
-- table. The audit log already has audit_log_at_idx for its retention.

create index sessions_expires_at_idx on sessions (expires_at);
create index login_failures_last_failure_at_idx on login_failures (last_failure_at);
create index ip_login_failures_hour_idx on ip_login_failures (hour);
create index login_history_at_idx on login_history (at);
-- Only rows whose message has not been wiped yet: a handful at any time.
create index sms_outbox_unwiped_idx on sms_outbox (created_at) where length(sealed) > 0;
create index mail_outbox_unwiped_idx on mail_outbox (created_at) where length(sealed) > 0;

---- create above / drop below ----

drop index mail_outbox_unwiped_idx;
drop index sms_outbox_unwiped_idx;
drop index login_history_at_idx;
drop index ip_login_failures_hour_idx;
drop index login_failures_last_failure_at_idx;
drop index sessions_expires_at_idx;
