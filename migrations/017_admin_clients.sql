-- Admin console: applications (filled in by its change).
select 1;

---- create above / drop below ----

select 1;
