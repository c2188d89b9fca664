package outbound

import (
	"net/netip"
	"net/url"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	good := []string{"https://api.example.com", "https://*.stripe.com", "http://127.0.0.1:8080",
		"http://127.0.0.1:*", "http://10.0.0.0/8:*", "https://[fd00::/8]:443", "http://[::1]:*",
		"HTTPS://API.Example.COM/", "http://svc.internal:9000"}
	if _, err := ParsePolicy(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"api.example.com", "ftp://x.example", "https://", "https://x.example:0",
		"https://x.example:99999", "https://x.example/path", "https://*x.example", "https://a.*.example",
		"https://[::1", "https://[10.0.0.1]", "https://10.0.0.0/33", "https://user@x.example", "https://x.example?q"} {
		if _, err := ParsePolicy([]string{bad}); err == nil {
			t.Errorf("ParsePolicy(%q) succeeded", bad)
		}
	}
}

func TestPolicy_allowsTarget(t *testing.T) {
	p, err := ParsePolicy([]string{"https://api.example.com", "https://*.stripe.com", "http://127.0.0.1:8080",
		"http://10.0.0.0/8:*", "https://[fd00::/8]:443"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://api.example.com/v1?x=1", true},
		{"https://API.EXAMPLE.COM./v1", true},
		{"https://api.example.com:443/", true},
		{"https://api.example.com:8443/", false}, // another port
		{"http://api.example.com/", false},       // another scheme
		{"https://evil.api.example.com/", false}, // not a wildcard grant
		{"https://x.stripe.com/", true},
		{"https://a.b.stripe.com/", true},
		{"https://stripe.com/", false}, // "*." is for subdomains only
		{"https://evilstripe.com/", false},
		{"http://127.0.0.1:8080/", true},
		{"http://127.0.0.1:8081/", false},
		{"http://localhost:8080/", false}, // a name is not its address
		{"http://10.1.2.3:1234/", true},
		{"http://11.1.2.3/", false},
		{"http://[::ffff:10.1.2.3]:99/", true}, // v4-mapped is unmapped
		{"https://[fd12::1]/", true},
		{"https://[fe80::1]/", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		tg, ok := targetOf(u)
		if got := ok && p.allowsTarget(tg); got != tt.want {
			t.Errorf("%s: allowed %v, want %v", tt.url, got, tt.want)
		}
	}
	if (&Policy{}).allowsTarget(target{scheme: "https", name: "api.example.com", port: 443}) {
		t.Error("an empty policy allows a request")
	}
}

func TestSpecial(t *testing.T) {
	tests := []struct {
		addr    string
		special bool
	}{
		{"127.0.0.1", true}, {"127.8.9.10", true}, {"10.1.1.1", true}, {"172.16.0.1", true}, {"172.31.255.255", true},
		{"192.168.0.1", true}, {"100.64.0.1", true}, {"100.127.255.255", true}, {"169.254.169.254", true},
		{"224.0.0.1", true}, {"239.255.255.250", true}, {"0.0.0.0", true}, {"255.255.255.255", true},
		{"192.0.2.1", true}, {"198.18.0.1", true}, {"240.0.0.1", true},
		{"::", true}, {"::1", true}, {"fc00::1", true}, {"fd12:3456::1", true}, {"fe80::1", true},
		{"ff02::1", true}, {"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"64:ff9b::7f00:1", true},
		{"64:ff9b::a00:1", true}, {"2001:db8::1", true}, {"2002:7f00:1::", true}, {"64:ff9b:1::1", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"172.32.0.1", false}, {"100.128.0.1", false},
		{"2606:4700:4700::1111", false}, {"::ffff:8.8.8.8", false}, {"64:ff9b::808:808", false},
	}
	for _, tt := range tests {
		if got := Special(netip.MustParseAddr(tt.addr)); got != tt.special {
			t.Errorf("Special(%s) = %v, want %v", tt.addr, got, tt.special)
		}
	}
}
