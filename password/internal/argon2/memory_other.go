//go:build !unix

package argon2

func mapBlocks(uint32) ([]block, bool) { return nil, false }

func unmapBlocks([]block) {}
