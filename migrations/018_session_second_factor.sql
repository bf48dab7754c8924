-- When a second factor last passed in a session: changing factors or the
-- password needs one within minutes, not merely once in the session's life.
-- Sessions from before this column have none and prove a factor again.

alter table sessions add column second_factor_at timestamptz;

---- create above / drop below ----

alter table sessions drop column second_factor_at;
