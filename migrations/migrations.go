// Package migrations holds the database schema as numbered SQL files, embedded so
// the binary carries its own schema. Files follow tern's convention: NNN_name.sql,
// with the rollback below a "---- create above / drop below ----" line. tern runs
// each file through text/template, so the SQL must not contain double braces.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
