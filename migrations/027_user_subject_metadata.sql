-- The subject a user is known by in tokens, and the metadata Auth0 keeps on a
-- user. The id stays the key every table refers to; subject is what ID tokens,
-- access tokens and userinfo say in "sub". An imported user keeps the id their
-- old provider gave them ("auth0|60d5…"), so the apps' data keyed by it
-- stays theirs. Without one given, the subject is the id, as before.

alter table users
    add column subject       text check (length(subject) between 1 and 255),
    add column user_metadata jsonb not null default '{}' check (jsonb_typeof(user_metadata) = 'object'),
    add column app_metadata  jsonb not null default '{}' check (jsonb_typeof(app_metadata) = 'object');

update users set subject = id::text;

-- Every insert gets a subject, including those that do not name one.
create function users_default_subject() returns trigger language plpgsql as $$
begin
    if new.subject is null then
        new.subject := new.id::text;
    end if;
    return new;
end
$$;

create trigger users_default_subject before insert on users
    for each row execute function users_default_subject();

alter table users alter column subject set not null;
create unique index users_subject_key on users (subject);

---- create above / drop below ----

drop index users_subject_key;
drop trigger users_default_subject on users;
drop function users_default_subject();
alter table users drop column app_metadata, drop column user_metadata, drop column subject;
