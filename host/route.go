package host

import (
	"slices"
	"strings"
)

// Route is a custom HTTP handler that a plugin registered.
type Route struct {
	// Plugin and Version name the plugin version that serves the route.
	Plugin, Version string
	// Pattern is the path pattern, in httprouter syntax.
	Pattern string
	// Methods are the HTTP methods the route serves.
	Methods []string
	// SessionRequired is true when the handler needs a Bearer session.
	SessionRequired bool

	entry *rpcEntry
}

// defaultMethods are the methods of a route registered with none.
var defaultMethods = []string{"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"}

// allowedMethods are the methods a route may name.
var allowedMethods = append(slices.Clone(defaultMethods), "OPTIONS")

// parseMethods turns "get, POST" into "GET,POST" (sorted, unique), or the
// default set for an empty list. ok is false for an unknown method.
func parseMethods(list string) (string, bool) {
	if strings.TrimSpace(list) == "" {
		return strings.Join(defaultMethods, ","), true
	}
	var out []string
	for _, m := range strings.Split(list, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !slices.Contains(allowedMethods, m) {
			return "", false
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ","), true
}

// overlaps reports whether two comma-joined method lists share a method.
func overlaps(a, b string) bool {
	bs := strings.Split(b, ",")
	for _, m := range strings.Split(a, ",") {
		if slices.Contains(bs, m) {
			return true
		}
	}
	return false
}
