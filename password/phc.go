package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformedHash is wrapped by errors from Verify when the stored hash cannot be read: an
// unknown scheme, an argon2 version other than 19, parameters out of bounds, bad base64, or a
// truncated string.
var ErrMalformedHash = errors.New("password: malformed hash")

// Lengths of the salt and key in hashes we make. Stored hashes with other lengths within the
// accepted bounds verify and need a rehash.
const (
	saltLen = 16
	keyLen  = 32

	minSaltLen, maxSaltLen = 8, 64
	minKeyLen, maxKeyLen   = 16, 64
)

var b64 = base64.RawStdEncoding.Strict()

// phc is an argon2id hash in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
type phc struct {
	params    Params
	salt, key []byte
}

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", 19, h.params.Memory, h.params.Time,
		h.params.Threads, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

func parsePHC(s string) (phc, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return phc{}, malformed("not an argon2id PHC string")
	}
	if f[2] != "v=19" {
		return phc{}, malformed("argon2 version is not 19")
	}
	params, err := parseParams(f[3])
	if err != nil {
		return phc{}, err
	}
	salt, err := b64.DecodeString(f[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return phc{}, malformed("bad salt")
	}
	key, err := b64.DecodeString(f[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return phc{}, malformed("bad key")
	}
	return phc{params: params, salt: salt, key: key}, nil
}

// parseParams reads "m=<KiB>,t=<passes>,p=<lanes>", in that order.
func parseParams(s string) (Params, error) {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return Params{}, malformed("want parameters m,t,p")
	}
	m, errM := parseParam(f[0], "m=", 32)
	t, errT := parseParam(f[1], "t=", 32)
	p, errP := parseParam(f[2], "p=", 8)
	if err := errors.Join(errM, errT, errP); err != nil {
		return Params{}, malformed("want parameters m,t,p")
	}
	params := Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}
	if err := params.check(); err != nil {
		return Params{}, malformed(err.Error())
	}
	return params, nil
}

func parseParam(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, errors.New("missing " + prefix)
	}
	return strconv.ParseUint(v, 10, bits)
}

func malformed(why string) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, why)
}
