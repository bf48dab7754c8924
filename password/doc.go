// Package password hashes passwords and holds the rules a new password must meet.
// It is domain code: no HTTP, no SQL.
//
// # Hashing
//
// New passwords are hashed with argon2id at the OWASP Password Storage Cheat Sheet minimum,
// m=19 MiB, t=2, p=1 (see [OWASP]). argon2id is memory-hard, so a guessing rig pays for memory as
// well as compute. One hash costs 20 MB and 16-30 ms of one core on our 2-core hosts (CPUs
// differ), a login delay nobody notices. Hashes are stored as PHC strings,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// and [Hasher.Verify] reads the parameters back out of the stored string, so the parameters can
// be raised later: Verify reports needsRehash when a hash was made with other parameters, and
// the caller stores a fresh [Hasher.Hash] of the password it has just checked. bcrypt hashes
// ($2a$, $2b$, $2y$, as an Auth0 export holds) verify too and always need a rehash, so imported
// accounts move to argon2id on their next login.
//
// Every hash allocates its whole memory cost. Hash, Verify and Equalize therefore take a slot
// from a semaphore of fixed size before the expensive part: a flood of logins queues (each
// waiter giving up when its context ends) instead of allocating 20 MB per concurrent request
// until the process dies.
//
// [Hasher.Equalize] spends the time of a failed verification, for logins naming an unknown
// account, so that "no such account" and "wrong password" take the same time.
//
// # Normalization
//
// The same password can reach us as different code points: "é" precomposed or as "e" plus a
// combining accent, a full-width "Ａ" from an East Asian keyboard, an "ﬁ" ligature pasted from a
// document. Passwords are NFKC-normalized before they are counted and before argon2id hashes
// their UTF-8, so a person can log in from any device (NIST SP 800-63B §5.1.1.2 recommends
// this). bcrypt hashes were made elsewhere from raw bytes, so bcrypt verification uses the raw
// bytes; a password longer than bcrypt's 72-byte limit never matches a bcrypt hash.
//
// # Rules
//
// [Policy.Check] applies the NIST SP 800-63B rules and nothing else: at least [MinLength] and at
// most [MaxLength] code points, not one of the zxcvbn list of 30,000 most common passwords, and
// not equal to a word from the account's context such as its email address. There are no
// composition rules (digits, symbols, mixed case): they annoy people without making passwords
// harder to guess.
//
// [OWASP]: https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
package password
