-- Admin console: users and logs. The Logs page pages the audit log by id,
-- newest first, most often for one user or one event type; these indexes
-- serve such a page by reading it in order, where the (user_id, at) and
-- (event, at) indexes would read every match and sort.

create index audit_log_user_id_id_idx on audit_log (user_id, id) where user_id is not null;
create index audit_log_event_id_idx on audit_log (event, id);

---- create above / drop below ----

drop index audit_log_event_id_idx;
drop index audit_log_user_id_id_idx;
