package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
)

// keysFile is where generated keys live, inside the data directory.
const keysFile = "keys.json"

// keys are the server's secrets. None has a well-known default: a key not
// given in the configuration is generated on first run and kept, mode 0600,
// in the data directory.
type keys struct {
	ServerKey     string `json:"server_key"`
	HTTPKey       string `json:"http_key"`
	EncryptionKey string `json:"encryption_key"`
	RefreshKey    string `json:"refresh_encryption_key"`
}

// loadKeys returns the keys: configured ones win, the rest come from the
// keys file, and missing ones are generated and saved. It logs where the
// file is, never a key's value.
//
// # Errors
//
// It fails when the file cannot be read, parsed or written.
func loadKeys(c *config, log zerolog.Logger) (*keys, error) {
	path := filepath.Join(c.DataDir, keysFile)
	var k keys
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read keys: %w", err)
	default:
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			log.Warn().Str("path", path).Msg("keys file is readable by other users; chmod 600 it")
		}
	}
	generated := false
	for _, f := range []*string{&k.ServerKey, &k.HTTPKey, &k.EncryptionKey, &k.RefreshKey} {
		if *f == "" {
			*f, generated = randomKey(), true
		}
	}
	if generated {
		if err := writeKeys(path, &k); err != nil {
			return nil, err
		}
		log.Info().Str("path", path).Msg("generated keys that were not configured")
	} else {
		log.Info().Str("path", path).Msg("using keys from the data directory for those not configured")
	}
	override(&k.ServerKey, c.ServerKey)
	override(&k.HTTPKey, c.HTTPKey)
	override(&k.EncryptionKey, c.EncryptionKey)
	override(&k.RefreshKey, c.RefreshKey)
	return &k, nil
}

func override(dst *string, configured string) {
	if configured != "" {
		*dst = configured
	}
}

// randomKey returns 32 random bytes, base64url without padding, so that it
// can stand in a URL as ?http_key=.
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeKeys writes k to path with mode 0600, through a temporary file and a
// rename so that a crash never leaves half a file.
func writeKeys(path string, k *keys) error {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return fmt.Errorf("encode keys: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	return nil
}
