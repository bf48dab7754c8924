-- Email verification and password reset (filled in by its change).
select 1;

---- create above / drop below ----

select 1;
