package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsole_pluginPagesCannotReachTheConsole drives chromium against the
// attack plugin pagejack (testdata/attacks/pagejack.wat), whose routes are
// served from the console's origin. An operator signed in to the console
// opens the plugin's page; its script must not reach the console with the
// operator's session: no CSRF token, no accounts, no plugin removed. The
// plugin's other page must not install a service worker over the origin,
// and the console must still be the console afterwards. Plugin pages still
// run their scripts, in an origin of their own ("null").
func TestConsole_pluginPagesCannotReachTheConsole(t *testing.T) {
	b := newBrowser(t)
	dir := fixtureDir(t, "../../plugins/echo/echo.wasm", "testdata/attacks/pagejack.wasm")
	args := append(dataArgs(t, dir), "-server-key", testServerKey,
		"-refresh-encryption-key", testRefreshKey, "-console-password", testConsolePassword)
	s := startServer(t, args...)
	login(t, s, "custom-victim-0001", "carol") // an account for the page to look for
	echo := pluginVersion(t, s, "echo")

	b.run("operator signs in",
		chromedp.Navigate(s.URL+"/_warden/console/"),
		chromedp.WaitVisible("#signin-password", chromedp.ByQuery),
		chromedp.SendKeys("#signin-password", testConsolePassword+kb.Enter, chromedp.ByQuery),
		waitText("#page-title", "Status"),
	)
	var title string
	b.run("operator opens the plugin's page",
		chromedp.Navigate(s.URL+"/page"),
		chromedp.Poll(`document.title.startsWith("done")`, nil, chromedp.WithPollingTimeout(time.Minute)),
		chromedp.Title(&title),
	)
	t.Logf("the plugin's page: %s", title)
	for _, want := range []string{"origin=null", "csrf=none", "accounts=none"} {
		if !strings.Contains(title, want) {
			t.Errorf("the plugin's page reports %q, want %q", title, want)
		}
	}
	if res := do(t, "GET", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil); !strings.Contains(res.Body, `"version":"`+echo+`"`) {
		t.Errorf("echo %s is gone after the plugin's page ran (removed through the console): %s", echo, res.Body)
	}
	res := do(t, "GET", s.URL+"/page", "", nil)
	if got := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "sandbox ") {
		t.Errorf("plugin page's Content-Security-Policy = %q, want a sandbox", got)
	}

	b.run("the plugin's page tries to install a service worker",
		chromedp.Navigate(s.URL+"/sw"),
		chromedp.Poll(`document.title.startsWith("sw ")`, nil, chromedp.WithPollingTimeout(time.Minute)),
		chromedp.Title(&title),
	)
	if !strings.HasPrefix(title, "sw failed") {
		t.Errorf("the plugin's page reports %q, want the service worker refused", title)
	}
	if res := do(t, "GET", s.URL+"/sw.js", "", nil); res.Status != 200 || res.Header.Get("Service-Worker-Allowed") != "" {
		t.Errorf("GET /sw.js: %d with Service-Worker-Allowed %q, want 200 without it", res.Status, res.Header.Get("Service-Worker-Allowed"))
	}
	b.run("the console is still the console",
		chromedp.Navigate(s.URL+"/_warden/console/"),
		waitText("#page-title", "Status"),
	)
}
