package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const (
	sessionBody        = `\{"created":true,"token":"[\w.-]+","refresh_token":"[\w.-]+"\}`
	sessionBodyExisted = `\{"token":"[\w.-]+","refresh_token":"[\w.-]+"\}`
)

func TestServer_Authenticate(t *testing.T) {
	s, _ := startAccounts(t, Config{MaxBodyBytes: 1024})
	key := serverKey()
	do(t, s, "POST", "/v2/account/authenticate/custom?username=taken&", key, `{"id":"custom-taken"}`)
	do(t, s, "POST", "/v2/account/authenticate/email?", key, `{"email":"mail@example.com","password":"password1"}`)
	tests := []struct {
		name, path string
		header     http.Header
		body       string
		status     int
		wantBody   string // regular expression
		wwwAuth    string
	}{
		{"CustomCreated", "custom?create=true&username=alice&", key, `{"id":"custom-alice","vars":{}}`, 200, sessionBody, ""},
		{"CustomExisting", "custom?", key, `{"id":"custom-alice"}`, 200, sessionBodyExisted, ""},
		{"CustomAnyPassword", "custom", http.Header{"Authorization": {basic(testServerKey + ":whatever")}}, `{"id":"custom-alice"}`, 200, sessionBodyExisted, ""},
		{"UnknownFieldsAndTrailingData", "custom", key, `{"id":"custom-alice","extra":1} trailing`, 200, sessionBodyExisted, ""},
		{"DeviceCreated", "device?", key, `{"id":"device-0123456789"}`, 200, sessionBody, ""},
		{"EmailCreated", "email?create=1", key, `{"email":"new@example.com","password":"password1","vars":{"a":"b"}}`, 200, sessionBody, ""},
		{"EmailLogin", "email?create=false", key, `{"email":"MAIL@example.com","password":"password1"}`, 200, sessionBodyExisted, ""},
		{"ErrNoServerKey", "custom", nil, `{"id":"custom-alice"}`, 401, gw(16, "Server key required"), "Server key required"},
		{"ErrTwoAuthHeaders", "custom", http.Header{"Authorization": {basic(testServerKey + ":"), basic(testServerKey + ":")}}, `{"id":"custom-alice"}`, 401, gw(16, "Server key required"), "Server key required"},
		{"ErrWrongServerKey", "custom", http.Header{"Authorization": {basic("nope:")}}, `{"id":"custom-alice"}`, 401, gw(16, "Server key invalid"), "Server key invalid"},
		{"ErrHTTPKeyIsNotServerKey", "custom", http.Header{"Authorization": {basic(testHTTPKey + ":")}}, `{"id":"custom-alice"}`, 401, gw(16, "Server key invalid"), "Server key invalid"},
		{"ErrNoColon", "custom", http.Header{"Authorization": {basic(testServerKey)}}, `{"id":"custom-alice"}`, 401, gw(16, "Server key invalid"), "Server key invalid"},
		{"ErrBearer", "custom", bearer(t), `{"id":"custom-alice"}`, 401, gw(16, "Server key invalid"), "Server key invalid"},
		{"ErrBadJSONBeforeKey", "custom", nil, `{"id":`, 400, `\{"code":3,"message":"unexpected EOF"\}`, ""},
		{"ErrWrongType", "custom", key, `{"id":5}`, 400, `\{"code":3,"message":"json: cannot unmarshal number into Go struct field [^"]+"\}`, ""},
		{"ErrCreateNotBool", "custom?create=maybe", key, `{"id":"custom-alice"}`, 400, gw(3, `parsing field "create": strconv.ParseBool: parsing "maybe": invalid syntax`), ""},
		{"ErrCreateRepeated", "custom?create=true&create=false", key, `{"id":"custom-alice"}`, 400, gw(3, `too many values for field "create": true, false`), ""},
		{"ErrUsernameRepeated", "custom?username=a&username=b", key, `{"id":"custom-alice"}`, 400, gw(3, `too many values for field "username": a, b`), ""},
		{"ErrNoBody", "custom", key, "", 400, gw(3, "Custom ID is required."), ""},
		{"ErrCustomIDShort", "custom", key, `{"id":"short"}`, 400, gw(3, "Custom ID invalid, must be 6-128 bytes."), ""},
		{"ErrDeviceIDSpace", "device", key, `{"id":"device 0123456789"}`, 400, gw(3, "Device ID invalid, no spaces or control characters allowed."), ""},
		{"ErrEmailNoBody", "email", key, "", 400, gw(3, "Email address and password is required."), ""},
		{"ErrEmailFormat", "email", key, `{"email":"not-an-email","password":"password1"}`, 400, gw(3, "Invalid email address format."), ""},
		{"ErrPasswordShort", "email", key, `{"email":"mail@example.com","password":"short"}`, 400, gw(3, "Password must be at least 8 characters long."), ""},
		{"ErrWrongPassword", "email", key, `{"email":"mail@example.com","password":"password2"}`, 401, gw(16, "Invalid credentials."), "Invalid credentials."},
		{"ErrNotFound", "custom?create=false", key, `{"id":"custom-nobody"}`, 404, gw(5, "User account not found."), ""},
		{"ErrUsernameTaken", "custom?username=taken", key, `{"id":"custom-other"}`, 409, gw(6, "Username is already in use."), ""},
		{"ErrBodyTooLarge", "custom", key, `{"id":"` + strings.Repeat("x", 1100) + `"}`, 400, regexp.QuoteMeta(bodyTooLarge), ""},
		{"ErrCompressed", "custom", http.Header{"Authorization": key["Authorization"], "Content-Encoding": {"gzip"}}, "x", 400, gw(3, msgBadEncoding), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, "POST", "/v2/account/authenticate/"+tt.path, tt.header, tt.body)
			wantResponse(t, res, tt.status, tt.wantBody, tt.wwwAuth)
		})
	}
}

// TestServer_AccountSession follows one session through RPCs, the account
// endpoint, refresh and logout.
func TestServer_AccountSession(t *testing.T) {
	s, caller := startAccounts(t, Config{})
	sess := apiSessionOf(t, do(t, s, "POST", "/v2/account/authenticate/device?username=dora&", serverKey(),
		`{"id":"device-0123456789","vars":{"tier":"gold"}}`))
	user := func(tok string) http.Header { return auth(tok) }

	res := do(t, s, "POST", "/v2/rpc/whoami", user(sess.Token), "")
	req := caller.requests()[0]
	if res.status != 200 || req.User == nil || req.User.Username != "dora" || req.User.Vars["tier"] != "gold" || len(req.User.ID) != 36 {
		t.Fatalf("RPC with a new session: %d %s, user %+v", res.status, res.body, req.User)
	}
	uid := req.User.ID

	t.Run("Account", func(t *testing.T) {
		res := do(t, s, "GET", "/v2/account", user(sess.Token), "")
		ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
		want := `\{"user":\{"id":"` + uid + `","username":"dora","lang_tag":"en","metadata":"\{\}","create_time":"` + ts +
			`","update_time":"` + ts + `"\},"wallet":"\{\}","devices":\[\{"id":"device-0123456789"\}\]\}`
		wantResponse(t, res, 200, want, "")
	})
	t.Run("Refresh", func(t *testing.T) {
		res := do(t, s, "POST", "/v2/account/session/refresh?", serverKey(), `{"token":"`+sess.RefreshToken+`","vars":{}}`)
		wantResponse(t, res, 200, sessionBodyExisted, "")
		next := apiSessionOf(t, res)
		if res := do(t, s, "POST", "/v2/rpc/echo", user(next.Token), ""); res.status != 200 {
			t.Fatalf("RPC with the refreshed token: %d %s", res.status, res.body)
		}
		if got := caller.requests(); got[len(got)-1].User.Vars["tier"] != "gold" {
			t.Fatalf("refresh with empty vars lost them: %+v", got[len(got)-1].User)
		}
	})
	errTests := []struct {
		name, method, path string
		header             http.Header
		body               string
		status             int
		wantBody, wwwAuth  string
	}{
		{"ErrRefreshNoKey", "POST", "/v2/account/session/refresh", nil, `{"token":"x"}`, 401, gw(16, "Server key required"), "Server key required"},
		{"ErrRefreshEmpty", "POST", "/v2/account/session/refresh", serverKey(), `{}`, 400, gw(3, "Refresh token is required."), ""},
		{"ErrRefreshWithSessionToken", "POST", "/v2/account/session/refresh", serverKey(), `{"token":"` + sess.Token + `"}`, 401, gw(16, "Refresh token invalid or expired."), "Refresh token invalid or expired."},
		{"ErrAccountNoAuth", "GET", "/v2/account", nil, "", 401, gw(16, "Auth token required"), "Auth token required"},
		{"ErrAccountBasic", "GET", "/v2/account", serverKey(), "", 401, gw(16, "Auth token invalid"), "Auth token invalid"},
		{"ErrAccountRefreshToken", "GET", "/v2/account", user(sess.RefreshToken), "", 401, gw(16, "Auth token invalid"), "Auth token invalid"},
		{"ErrAccountMethod", "PUT", "/v2/account", user(sess.Token), "", 501, regexp.QuoteMeta(bodyMethodNotAllowed), ""},
		{"ErrLogoutNoAuth", "POST", "/v2/session/logout", nil, `{}`, 401, gw(16, "Auth token required"), "Auth token required"},
		{"ErrLogoutOthersToken", "POST", "/v2/session/logout", user(sess.Token), `{"token":"` + token(t, testEncKey, validClaims()) + `"}`, 400, gw(3, "Session token invalid."), ""},
		{"ErrLogoutBadRefresh", "POST", "/v2/session/logout", user(sess.Token), `{"refresh_token":"x.y.z"}`, 400, gw(3, "Refresh token invalid."), ""},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			wantResponse(t, do(t, s, tt.method, tt.path, tt.header, tt.body), tt.status, tt.wantBody, tt.wwwAuth)
		})
	}
	t.Run("Logout", func(t *testing.T) {
		res := do(t, s, "POST", "/v2/session/logout?", user(sess.Token), `{"refresh_token":"`+sess.RefreshToken+`","token":"`+sess.Token+`"}`)
		wantResponse(t, res, 200, `\{\}`, "")
		res = do(t, s, "POST", "/v2/rpc/echo", user(sess.Token), "")
		wantResponse(t, res, 401, regexp.QuoteMeta(`{"error":"Auth token invalid","message":"Auth token invalid","code":16}`), "")
		wantResponse(t, do(t, s, "GET", "/v2/account", user(sess.Token), ""), 401, gw(16, "Auth token invalid"), "Auth token invalid")
		res = do(t, s, "POST", "/v2/account/session/refresh", serverKey(), `{"token":"`+sess.RefreshToken+`"}`)
		wantResponse(t, res, 401, gw(16, "Refresh token invalid or expired."), "Refresh token invalid or expired.")
	})
}

func TestServer_AccountRoutes(t *testing.T) {
	t.Run("ErrNoAccounts", func(t *testing.T) {
		s := startServer(t, Config{})
		res := do(t, s, "POST", "/v2/account/authenticate/custom", serverKey(), `{"id":"custom-alice"}`)
		wantResponse(t, res, 404, regexp.QuoteMeta(bodyNotFound), "")
	})
	t.Run("ErrNoServerKey", func(t *testing.T) {
		s, _ := startAccounts(t, Config{})
		_, err := NewServer(Config{Caller: echo(), HTTPKey: "k", EncryptionKey: []byte("e"), Accounts: s.cfg.Accounts})
		if err == nil || !strings.Contains(err.Error(), "ServerKey") {
			t.Fatalf("NewServer without ServerKey = %v", err)
		}
	})
}
