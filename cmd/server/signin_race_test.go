package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-rpc/warden/accounts"
)

// concurrentSignIns opens one connection per body from one address, sends
// every request's headers first and, a moment later, the bodies, waves at a
// time (a wave of the bodies' count sends them all at once), and returns
// the count of each status and how long it took. A 429 that refuses a
// sign-up is counted as the 404 it stands for (the ID has no account). Sent this way, every
// request reaches its handler before any password is checked: the way to
// make more guesses than a limit that counts failures only after checking.
func concurrentSignIns(t *testing.T, s *server, path string, header map[string]string, bodies []string, wave int) (map[int]int, time.Duration) {
	t.Helper()
	addr := strings.TrimPrefix(s.URL, "http://")
	start := time.Now()
	conns := make([]net.Conn, len(bodies))
	for i, body := range bodies {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		var h strings.Builder
		for k, v := range header {
			fmt.Fprintf(&h, "%s: %s\r\n", k, v)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			path, addr, h.String(), len(body))
	}
	time.Sleep(700 * time.Millisecond) // only for the attack to work: the assertions do not depend on it
	counts := map[int]int{}
	for w := 0; w < len(conns); w += wave {
		end := min(w+wave, len(conns))
		for i := w; i < end; i++ {
			if _, err := conns[i].Write([]byte(bodies[i])); err != nil {
				t.Fatal(err)
			}
		}
		for i := w; i < end; i++ {
			_ = conns[i].SetReadDeadline(time.Now().Add(time.Minute))
			res, err := http.ReadResponse(bufio.NewReader(conns[i]), nil)
			if err != nil {
				t.Fatalf("sign-in %d: %v", i, err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			status := res.StatusCode
			if status == http.StatusTooManyRequests && strings.Contains(string(body), "Too many accounts created") {
				status = http.StatusNotFound // a sign-up refused stands for the 404 it wraps: this ID has no account
			}
			counts[status]++
		}
	}
	return counts, time.Since(start)
}

// guesses returns n sign-in bodies of wrong passwords, made by body, then
// the right one.
func guesses(n int, body func(password string) string, right string) []string {
	out := make([]string, 0, n+1)
	for i := range n {
		out = append(out, body(fmt.Sprintf("wrong-guess-%03d", i)))
	}
	return append(out, body(right))
}

// checkGuesses fails the test when more guesses were checked (answered
// anything but 429) than a limit of burst failures in a row, plus one per
// every since the first request, allows.
func checkGuesses(t *testing.T, counts map[int]int, elapsed time.Duration, burst int, every time.Duration) {
	t.Helper()
	allowed := burst + int(elapsed/every) + 1 // +1: the right guess, once reached, is no failure
	checked := -counts[http.StatusTooManyRequests]
	for _, n := range counts {
		checked += n
	}
	t.Logf("statuses: %v in %s; at most %d guesses may be checked", counts, elapsed.Round(time.Millisecond), allowed)
	if wrong := checked - counts[http.StatusOK]; checked > allowed || wrong > allowed-1 {
		t.Errorf("%d guesses checked (%d wrong) from one address, where the limit allows %d", checked, wrong, allowed)
	}
	if counts[http.StatusTooManyRequests] == 0 {
		t.Errorf("no sign-in refused with 429: %v", counts)
	}
}

// TestConsole_signInLimitHoldsUnderConcurrency: sign-ins sent together from
// one address check no more passwords than the console's limit of
// failures, however many there are: each takes its attempt before its
// password is read.
func TestConsole_signInLimitHoldsUnderConcurrency(t *testing.T) {
	s := startServer(t, append(dataArgs(t, "../../plugins"), "-console-password", testConsolePassword)...)
	bodies := guesses(39, func(pw string) string { return `{"user":"admin","password":"` + pw + `"}` }, testConsolePassword)
	counts, elapsed := concurrentSignIns(t, s, "/_warden/console/api/signin", map[string]string{"Origin": s.URL}, bodies, len(bodies))
	checkGuesses(t, counts, elapsed, consoleSignInBurst, consoleSignInEvery)
}

// TestAccounts_signInLimitHoldsUnderConcurrency: the same for the account
// API's email sign-in, whose limit is the failures budget of
// accounts.Limiter. The bodies go two at a time, under the server's
// password-hashing gate, which answers 503 beyond it.
func TestAccounts_signInLimitHoldsUnderConcurrency(t *testing.T) {
	s := startServer(t, accountArgs(t)...)
	const email, password = "victim@example.com", "the-right-password-1"
	auth := map[string]string{"Authorization": "Basic " + basic(testServerKey)}
	if res := do(t, "POST", s.URL+"/v2/account/authenticate/email?create=true", `{"email":"`+email+`","password":"`+password+`"}`, auth); res.Status != 200 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	bodies := guesses(29, func(pw string) string { return `{"email":"` + email + `","password":"` + pw + `"}` }, password)
	counts, elapsed := concurrentSignIns(t, s, "/v2/account/authenticate/email?create=false", auth, bodies, 2)
	checkGuesses(t, counts, elapsed, accounts.DefaultLimiterBurst, accounts.DefaultLimiterEvery)
}

// TestAccounts_loginByIDLimitHoldsUnderConcurrency: logins by custom ID
// (create=false) sent together from one address, each for an ID that has
// no account, are as many guesses at who has one: no more are answered
// than the failures budget allows, with every spelling of false the
// endpoint takes.
func TestAccounts_loginByIDLimitHoldsUnderConcurrency(t *testing.T) {
	for _, create := range []string{"false", "0", "FALSE"} {
		t.Run(create, func(t *testing.T) {
			s := startServer(t, accountArgs(t)...)
			bodies := guesses(29, func(id string) string { return `{"id":"` + id + `"}` }, "wrong-guess-last")
			counts, elapsed := concurrentSignIns(t, s, "/v2/account/authenticate/custom?create="+create,
				map[string]string{"Authorization": "Basic " + basic(testServerKey)}, bodies, len(bodies))
			checkGuesses(t, counts, elapsed, accounts.DefaultLimiterBurst, accounts.DefaultLimiterEvery)
		})
	}
}

// TestAccounts_probesPastSignupBudgetHoldUnderConcurrency: a client out of
// sign-up budget still logs in, so its create=true requests for unknown
// IDs are answered "too many accounts created", which says the ID has no
// account: as many guesses as logins with create=false, and held to the
// same failures budget when sent together.
func TestAccounts_probesPastSignupBudgetHoldUnderConcurrency(t *testing.T) {
	s := startServer(t, accountArgs(t)...)
	auth := map[string]string{"Authorization": "Basic " + basic(testServerKey)}
	for i := range accounts.DefaultSignupBurst {
		if res := do(t, "POST", s.URL+"/v2/account/authenticate/custom", fmt.Sprintf(`{"id":"signup-budget-%03d"}`, i), auth); res.Status != 200 {
			t.Fatalf("sign-up %d: %d %s", i, res.Status, res.Body)
		}
	}
	bodies := guesses(29, func(id string) string { return `{"id":"` + id + `"}` }, "wrong-guess-last")
	counts, elapsed := concurrentSignIns(t, s, "/v2/account/authenticate/custom?create=true", auth, bodies, len(bodies))
	checkGuesses(t, counts, elapsed, accounts.DefaultLimiterBurst, accounts.DefaultLimiterEvery)
}
