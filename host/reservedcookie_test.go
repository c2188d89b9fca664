package host

import "testing"

// TestReservedCookie is a hostile route's spellings of a cookie that would
// reach the web console, which shares the origin: each is refused, and the
// plugin's own cookies, near misses included, are not.
func TestReservedCookie(t *testing.T) {
	for _, tt := range []struct {
		value    string
		reserved bool
	}{
		{"warden_console=x", true},
		{"  WaRdEn_console=x; Path=/game", true}, // the name in any case, after spaces
		{"warden_=x", true},
		{"game=1; Path=/_warden", true},
		{"game=1;path=/_warden/console/api/", true},
		{"game=1; PATH = /_WARDEN/ ", true},
		{"game=1; Path=/game; Path=/_warden/", true}, // browsers take the last Path
		{"game=1; Domain=example.com; Path=/_warden/console; Secure", true},
		{"game=1", false},
		{"game=1; Path=/", false},
		{"game=1; Path=/game", false},
		{"game=1; Path=/_wardenx", false}, // not a path under /_warden
		{"game=1; Path=/%5Fwarden/", false},
		{"wardenconsole=1", false},
		{"game=warden_console", false}, // a value, not a name
		// No name: browsers (RFC 6265bis) send the value alone, which
		// then reads as a cookie of that name.
		{"=warden_console=forged; Path=/", true},
		{" =x", true},
		{"warden_console", true},
		{"justavalue", true},
		// A Domain attribute scopes the cookie to the domain and every
		// host under it: other sites of the operator's domain.
		{"game=1; Domain=example.com", true},
		{"game=1; Path=/game; domain=.Example.COM", true},
		{"game=1; Path=/game;DOMAIN = api.example.com ", true},
		{"game=1; Domain=", true},
		{"game=1; Domains=x; Path=/game", false}, // not the attribute
		{"game=domain=x", false},
	} {
		if got := reservedCookie([]byte(tt.value)); got != tt.reserved {
			t.Errorf("reservedCookie(%q) = %v, want %v", tt.value, got, tt.reserved)
		}
	}
}
