-- The cleanup pass runs on one replica at a time. It used to hold a session
-- advisory lock, which a transaction-pooling connection pooler (PgBouncer's
-- pool_mode=transaction) leaves on a server connection it hands to others,
-- never released. A lease row, taken, renewed and given back by single
-- statements, works through any pooler: a replica that dies stops renewing,
-- and once expires_at passes, the next replica takes the lease over.

create table janitor_lease (
    name text primary key,
    holder text not null,
    expires_at timestamptz not null
);

---- create above / drop below ----

drop table janitor_lease;
