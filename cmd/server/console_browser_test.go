package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is Debian's chromium, which CI installs (.ci/run).
const chromiumPath = "/usr/bin/chromium"

// testConsolePassword signs in to the console in the browser test.
const testConsolePassword = "browser-test-console-password"

// browser drives headless chromium through one console session. Each step
// that fails writes screenshots of every page seen so far and of the
// failing state to an artifacts directory named in the log
// ($WARDEN_ARTIFACTS, or a new temporary directory). With
// $WARDEN_CONSOLE_SCREENSHOTS set, each page's screenshot is also written
// there (make docs/console-*.png with it).
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots map[string][]byte
	order []string
}

// newBrowser starts chromium, or skips the test when it is missing, unless
// CI is set: then it fails.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			path = p
		} else if os.Getenv("CI") != "" {
			t.Fatalf("chromium is missing (%v) and CI is set: .ci/run installs it with apt-get install -y chromium", err)
		} else {
			t.Skipf("chromium is missing (%v): apt-get install -y chromium", err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1360, 860), chromedp.Flag("lang", "en-US"))
	// chromedp makes a temporary profile directory and removes it once
	// chromium has exited (a t.TempDir could still be written to).
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, startBound(t))
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	// Confirmation dialogs (remove a plugin, revoke a session) are accepted.
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
	b := &browser{t: t, ctx: ctx, shots: map[string][]byte{}}
	t.Cleanup(b.writeShots)
	return b
}

// run runs actions for the step named what, and fails the test with a
// screenshot when they fail.
func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// shot keeps a screenshot of the window under name.
func (b *browser) shot(name string) {
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if _, ok := b.shots[name]; !ok {
		b.order = append(b.order, name)
	}
	b.shots[name] = png
}

// writeShots writes the screenshots: all of them when the test failed, to
// the artifacts directory; the pages' to $WARDEN_CONSOLE_SCREENSHOTS.
func (b *browser) writeShots() {
	if dir := os.Getenv("WARDEN_CONSOLE_SCREENSHOTS"); dir != "" && !b.t.Failed() {
		for _, name := range b.order {
			if !strings.HasPrefix(name, "failed-") {
				b.writeShot(dir, "console-"+name+".png")
			}
		}
	}
	if !b.t.Failed() {
		return
	}
	dir := os.Getenv("WARDEN_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "warden-console-screenshots-"); err != nil {
			b.t.Logf("screenshots: %v", err)
			return
		}
	}
	for _, name := range b.order {
		b.writeShot(dir, name+".png")
	}
	b.t.Logf("screenshots of the console written to %s", dir)
}

func (b *browser) writeShot(dir, file string) {
	name := strings.TrimSuffix(strings.TrimPrefix(file, "console-"), ".png")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		err = os.WriteFile(filepath.Join(dir, file), b.shots[name], 0o644)
		if err != nil {
			b.t.Logf("screenshot %s: %v", file, err)
		}
	}
}

// waitText waits until the element sel exists and its text holds want.
func waitText(sel, want string) chromedp.Action {
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(2*time.Minute), chromedp.WithPollingInterval(100*time.Millisecond))
}

// text reads the text of sel.
func text(sel string, out *string) chromedp.Action {
	return chromedp.TextContent(sel, out, chromedp.ByQuery)
}

// goPage opens a console page from the left nav, with the keyboard: focus
// the link, press Enter; the focus then moves to the page's title.
func goPage(name string) chromedp.Action {
	sel := `.side a[data-page="` + name + `"]`
	return chromedp.Tasks{
		chromedp.Focus(sel, chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		waitText("#page-title", map[string]string{"status": "Status", "plugins": "Plugins", "explorer": "API explorer",
			"logs": "Logs", "accounts": "Accounts", "audit": "Audit log"}[name]),
		chromedp.Poll(`document.activeElement && document.activeElement.id === "page-title"`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
	}
}

// TestConsole_browser drives the web console in headless chromium against
// the real server: sign in, see the bundled plugins, call echo from the
// explorer, upload a broken plugin and see it refused while echo keeps
// serving, see a log line a call produced, revoke a user's session and see
// the client refused, see it all in the audit log (failed sign-ins counted
// apart, a view of them, older and newer pages), sign out.
func TestConsole_browser(t *testing.T) {
	b := newBrowser(t)
	s := startServer(t, append(accountArgs(t), "-console-password", testConsolePassword)...)
	base := s.URL + "/_warden/console/"

	b.run("sign in",
		chromedp.Navigate(base),
		chromedp.WaitVisible("#signin-password", chromedp.ByQuery),
		chromedp.SendKeys("#signin-password", "not the password"+kb.Enter, chromedp.ByQuery),
		waitText("#signin-error", "wrong user name or password"),
		chromedp.SendKeys("#signin-password", testConsolePassword+kb.Enter, chromedp.ByQuery),
		waitText("#page-title", "Status"),
		waitText("#status-stats", "Plugins loaded"),
	)
	var stats string
	b.run("read status", text("#status-stats", &stats))
	if !strings.Contains(stats, "warden") || !strings.Contains(stats, version) {
		t.Fatalf("status page %q lacks the node or version", stats)
	}
	b.shot("status")

	b.run("see the bundled plugins", goPage("plugins"), waitText("#plugins-table", "seed"))
	var plugins string
	b.run("read plugins", text("#plugins-table", &plugins))
	for _, want := range []string{"echo", "kv", "seed", "whoami", "server_rpc_flagged (server-only)", "/test"} {
		if !strings.Contains(plugins, want) {
			t.Fatalf("plugins table lacks %q:\n%s", want, plugins)
		}
	}
	echoBefore := pluginVersion(t, s, "echo")
	b.shot("plugins")

	broken := filepath.Join(t.TempDir(), "echo.wasm")
	if err := os.WriteFile(broken, []byte("\x00asm\x01\x00\x00\x00 this is not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.run("upload a broken plugin",
		chromedp.SetValue("#upload-name", "echo", chromedp.ByQuery),
		chromedp.SetUploadFiles("#upload-file", []string{broken}, chromedp.ByQuery),
		chromedp.Click("#upload-submit", chromedp.ByQuery),
		waitText("#message", "Refused, the serving version is unchanged: echo"),
	)
	b.shot("plugins-refused")
	if v := pluginVersion(t, s, "echo"); v != echoBefore {
		t.Fatalf("echo's version changed from %s to %s after a refused upload", echoBefore, v)
	}

	b.run("call echo from the explorer",
		goPage("explorer"),
		chromedp.SetValue("#explorer-rpc", "echo", chromedp.ByQuery),
		chromedp.SetValue("#explorer-payload", `{"from":"the browser"}`, chromedp.ByQuery),
		chromedp.Click("#explorer-submit", chromedp.ByQuery),
		waitText("#explorer-body", `{"from":"the browser"}`),
	)
	var status, plugin string
	b.run("read the answer", text("#explorer-status", &status), text("#explorer-plugin", &plugin))
	if status != "200" || plugin != "echo@"+echoBefore {
		t.Fatalf("explorer: status %q, plugin %q; want 200 from echo@%s, the version serving before the refused upload", status, plugin, echoBefore)
	}
	b.shot("explorer")

	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	b.run("see a log line a call produced",
		goPage("logs"),
		chromedp.SetValue("#logs-rpc", "http_handler_path", chromedp.ByQuery),
		chromedp.Click("#logs-apply", chromedp.ByQuery),
		waitText("#logs-state", "live"),
	)
	res := do(t, "POST", s.URL+"/v2/rpc/http_handler_path?http_key="+testHTTPKey, `"{\"note\":\"`+marker+`\"}"`, nil)
	if res.Status != 200 {
		t.Fatalf("http_handler_path: %d %s", res.Status, res.Body)
	}
	b.run("the plugin's log line arrives", waitText("#logs-list", marker), waitText("#logs-list", "/v2/rpc/http_handler_path"))
	b.shot("logs")

	tok, _ := login(t, s, "custom-browser-0001", "carol")
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	if r := do(t, "POST", s.URL+"/v2/rpc/whoami", `""`, bearer); r.Status != 200 {
		t.Fatalf("whoami before the revocation: %d %s", r.Status, r.Body)
	}
	b.run("find the account and its session",
		goPage("accounts"),
		chromedp.SendKeys("#accounts-q", "carol"+kb.Enter, chromedp.ByQuery),
		waitText("#account-table", "carol"),
	)
	// The session is recorded just after the login, off the request path.
	for i := 0; ; i++ {
		var sessions string
		b.run("read sessions", waitText("#sessions-table", "Token ID"), text("#sessions-table", &sessions))
		if strings.Contains(sessions, "active") {
			break
		}
		if i > 100 {
			t.Fatalf("the session never appeared: %s", sessions)
		}
		time.Sleep(100 * time.Millisecond)
		b.run("search again", chromedp.Click("#accounts-find", chromedp.ByQuery), waitText("#account-table", "carol"))
	}
	b.shot("accounts")
	b.run("revoke the session",
		chromedp.Click(`#sessions-table button.danger`, chromedp.ByQuery),
		waitText("#message", "Revoked session"),
		waitText("#sessions-table", "revoked"),
	)
	if r := do(t, "POST", s.URL+"/v2/rpc/whoami", `""`, bearer); r.Status != 401 {
		t.Fatalf("whoami after the revocation: %d %s, want 401", r.Status, r.Body)
	}

	b.run("see the audit log", goPage("audit"), waitText("#audit-table", "sessions.revoke"))
	var audit string
	b.run("read the audit log", text("#audit-table", &audit))
	for _, want := range []string{"sign-in", "plugins.deploy", "refused (HTTP 422): echo", "rpc.call", "sessions.revoke"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("audit log lacks %q:\n%s", want, audit)
		}
	}
	// The default view leaves out the failed sign-in of the start, counts
	// it, and shows it on a click.
	var hidden string
	b.run("read the count of failed sign-ins", text("#audit-hidden", &hidden))
	if !strings.Contains(hidden, "Not listed: 1 failed sign-in ") || strings.Contains(audit, "refused: wrong user name or password") {
		t.Fatalf("default view: notice %q, table:\n%s\nwant 1 failed sign-in counted, not listed", hidden, audit)
	}
	b.shot("audit")
	b.run("show the failed sign-ins",
		chromedp.Click("#audit-show-failed", chromedp.ByQuery),
		waitText("#audit-table", "refused: wrong user name or password"),
		chromedp.Poll(`document.querySelector('#audit-kinds [data-kind="failed-sign-ins"]').getAttribute("aria-pressed") === "true"`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
	)

	// Eleven reloads: the newest page of ten changes holds none of the
	// changes above; Older (from the keyboard) reaches them, Newer goes back.
	cl, csrf := consoleClient(t, s, testConsolePassword)
	for i := range 11 {
		if status, body := consoleDo(t, cl, s, "POST", "plugins/reload", "{}", csrf); status != 200 {
			t.Fatalf("reload %d: %d %s", i, status, body)
		}
	}
	b.run("show the newest ten changes",
		chromedp.SetValue("#audit-limit", "10", chromedp.ByQuery),
		chromedp.Click(`#audit-kinds [data-kind="changes"]`, chromedp.ByQuery),
		waitText("#audit-table", "plugins.reload"),
		chromedp.Poll(`document.querySelectorAll("#audit-table tbody tr").length === 10 && !document.querySelector("#audit-table").textContent.includes("sessions.revoke")`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	b.run("page to older changes",
		chromedp.Focus("#audit-older", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		waitText("#audit-table", "sessions.revoke"),
		waitText("#audit-table", "rpc.call"),
		// The oldest page disables Older: the focus goes to the entries.
		chromedp.Poll(`document.querySelector("#audit-older").disabled && document.activeElement.id === "audit-table"`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	b.run("page back to newer changes",
		chromedp.Click("#audit-newer", chromedp.ByQuery),
		chromedp.Poll(`!document.querySelector("#audit-table").textContent.includes("sessions.revoke")`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
		waitText("#audit-table", "plugins.reload"),
	)
	b.run("filter the changes by target",
		chromedp.SetValue("#audit-filter-by", "target", chromedp.ByQuery),
		chromedp.SendKeys("#audit-filter-value", "echo"+kb.Enter, chromedp.ByQuery),
		waitText("#audit-table", "rpc.call"),
		chromedp.Poll(`(() => { const t = document.querySelector("#audit-table").textContent; return t.includes("plugins.deploy") && !t.includes("plugins.reload"); })()`, nil,
			chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(50*time.Millisecond)),
	)

	b.run("sign out",
		chromedp.Click("#signout", chromedp.ByQuery),
		waitText("#signin-error", "Signed out."),
		chromedp.Navigate(base),
		chromedp.WaitVisible("#signin-password", chromedp.ByQuery),
	)
}

// pluginVersion returns the serving version of a plugin, from the admin
// API.
func pluginVersion(t *testing.T, s *server, name string) string {
	t.Helper()
	res := do(t, "GET", s.URL+"/_warden/plugins?http_key="+testHTTPKey, "", nil)
	i := strings.Index(res.Body, `"name":"`+name+`"`)
	if res.Status != 200 || i < 0 {
		t.Fatalf("plugins: %d %s", res.Status, res.Body)
	}
	v := res.Body[i:]
	v = v[strings.Index(v, `"version":"`)+len(`"version":"`):]
	return v[:strings.IndexByte(v, '"')]
}
