package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// clustered reports whether c runs a node of a cluster: -database names a
// PostgreSQL database that every node shares.
func (c *config) clustered() bool { return c.Database != "" }

// checkCluster checks the configuration of cluster mode: -database must be a
// postgres:// URL, and every key must be given, identical on every node,
// since a node never generates or writes keys there (a key generated on one
// node would be unknown to the others). It names every missing flag. The
// URL is never echoed: it may hold a password.
func (c *config) checkCluster() error {
	if !c.clustered() {
		return nil
	}
	u, err := url.Parse(c.Database)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("database: want a postgres:// or postgresql:// URL")
	}
	var missing []string
	for _, k := range []struct{ flag, value string }{
		{"http-key", c.HTTPKey},
		{"server-key", c.ServerKey},
		{"encryption-key", c.EncryptionKey},
		{"refresh-encryption-key", c.RefreshKey},
	} {
		if k.value == "" {
			missing = append(missing, "-"+k.flag)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("database: cluster mode needs every key given, the same on every node; missing %s (or their WARDEN_ variables)",
			strings.Join(missing, ", "))
	}
	return nil
}

// clusterKeys returns the configured keys of a cluster node; checkCluster
// made sure that each is set. Nothing is read from or written to the data
// directory.
func clusterKeys(c *config) *keys {
	return &keys{ServerKey: c.ServerKey, HTTPKey: c.HTTPKey, EncryptionKey: c.EncryptionKey, RefreshKey: c.RefreshKey}
}
