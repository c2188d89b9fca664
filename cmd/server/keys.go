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
// in the data directory. The file holds only generated keys: a key the
// configuration gives is never written, so a key read from the file is
// always the one the server uses.
type keys struct {
	ServerKey     string `json:"server_key,omitempty"`
	HTTPKey       string `json:"http_key,omitempty"`
	EncryptionKey string `json:"encryption_key,omitempty"`
	RefreshKey    string `json:"refresh_encryption_key,omitempty"`
	// ConsolePassword signs in to the web console.
	ConsolePassword string `json:"console_password,omitempty"`
}

// keySlot is one key: its flag, what the configuration gives, and where it
// is kept in the keys file and in the result.
type keySlot struct {
	flag       string
	configured string
	stored     *string
	used       *string
}

// loadKeys returns the keys: configured ones win, the rest come from the
// keys file, and missing ones are generated and saved. The file is written
// only when a key had to be generated, and then holds only the keys that
// are not configured. It logs where the file is, never a key's value.
//
// # Errors
//
// It fails when the file cannot be read, parsed or written.
func loadKeys(c *config, log zerolog.Logger) (*keys, error) {
	if c.clustered() {
		return clusterKeys(c), nil // never generated nor written in cluster mode
	}
	path := filepath.Join(c.DataDir, keysFile)
	var stored, used keys
	if err := readKeys(path, &stored, log); err != nil {
		return nil, err
	}
	slots := []keySlot{
		{"server-key", c.ServerKey, &stored.ServerKey, &used.ServerKey},
		{"http-key", c.HTTPKey, &stored.HTTPKey, &used.HTTPKey},
		{"encryption-key", c.EncryptionKey, &stored.EncryptionKey, &used.EncryptionKey},
		{"refresh-encryption-key", c.RefreshKey, &stored.RefreshKey, &used.RefreshKey},
	}
	if c.Console {
		slots = append(slots, keySlot{"console-password", c.ConsolePassword, &stored.ConsolePassword, &used.ConsolePassword})
	}
	generated, overridden := false, []string{}
	for _, s := range slots {
		switch {
		case s.configured != "":
			if *s.stored != "" {
				overridden = append(overridden, s.flag)
			}
			*s.used, *s.stored = s.configured, ""
		case *s.stored == "":
			*s.stored, generated = randomKey(), true
			*s.used = *s.stored
		default:
			*s.used = *s.stored
		}
	}
	if !generated {
		if len(overridden) > 0 {
			log.Warn().Str("path", path).Strs("configured", overridden).
				Msg("the keys file holds keys that the configuration overrides; they are not used")
		}
		return &used, nil
	}
	if err := writeKeys(path, &stored); err != nil {
		return nil, err
	}
	log.Info().Str("path", path).Msg("generated keys that were not configured")
	return &used, nil
}

// readKeys reads the keys file at path into k; a missing file leaves k
// empty. It warns when other users may read the file.
func readKeys(path string, k *keys, log zerolog.Logger) error {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read keys: %w", err)
	}
	if err := json.Unmarshal(b, k); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn().Str("path", path).Msg("keys file is readable by other users; chmod 600 it")
	}
	return nil
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
