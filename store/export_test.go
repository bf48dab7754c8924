package store

// LockJanitor lets tests hold the janitor's lock as another replica would.
var LockJanitor = (*Store).lockJanitor
