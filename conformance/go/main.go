// Command conformance is the conformance plugin of conformance/SPEC.md in
// Go, written with the Go SDK (sdk/go) so that TestConformance checks the
// SDK as well as the host.
package main

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/db"
)

// main is required by Go and never called: the host calls the exports.
func main() {}

func init() { warden.Init(initModule) }

func initModule(_ *warden.Context) error {
	for _, r := range []struct {
		id         string
		h          warden.Handler
		serverOnly bool
	}{
		{"ctx", ctxRPC, false},
		{"log", logRPC, false},
		{"db", dbRPC, true},
		{"error", errorRPC, false},
		{"panic", panicRPC, false},
		{"echo", echoRPC, false},
		{"text", textRPC, false},
		{"http", httpRPC, false},
		{"whoami", whoamiRPC, false},
	} {
		register := warden.Register
		if r.serverOnly {
			register = warden.RegisterServerOnly
		}
		if err := register(r.id, r.h); err != nil {
			return err
		}
	}
	return nil
}

// lines builds the plain-text output: one "key=value\n" per line.
type lines struct {
	strings.Builder
}

func (l *lines) put(key, value string) {
	l.WriteString(key)
	l.WriteByte('=')
	l.WriteString(value)
	l.WriteByte('\n')
}

// opt renders an optional value: the value or "<absent>".
func opt(v string, ok bool) string {
	if !ok {
		return "<absent>"
	}
	return v
}

// presence renders only whether a value is there.
func presence(ok bool) string {
	if ok {
		return "<present>"
	}
	return "<absent>"
}

// ctxRPC prints each context key of the spec, in its order.
func ctxRPC(ctx *warden.Context, _ []byte) ([]byte, error) {
	var out lines
	out.put("user_id", opt(ctx.UserID()))
	out.put("username", opt(ctx.Username()))
	exp, ok := ctx.SessionExpiry()
	out.put("user_session_exp", opt(strconv.FormatInt(exp, 10), ok))
	out.put("var.tier", opt(ctx.Var("tier")))
	out.put("var.missing", opt(ctx.Var("missing")))
	out.put("header.X-Conformance", opt(ctx.Header("X-Conformance")))
	out.put("query.q", opt(ctx.Query("q")))
	out.put("env.MODE", opt(ctx.EnvVar("MODE")))
	out.put("env.missing", opt(ctx.EnvVar("missing")))
	out.put("execution_mode", opt(ctx.ExecutionMode()))
	out.put("node", opt(ctx.Node()))
	out.put("rpc_id", opt(ctx.RPCID()))
	out.put("plugin_name", opt(ctx.PluginName()))
	_, ok = ctx.TraceID()
	out.put("trace_id", presence(ok))
	_, ok = ctx.ClientIP()
	out.put("client_ip", presence(ok))
	_, ok = ctx.ClientPort()
	out.put("client_port", presence(ok))
	out.put("headers.count", strconv.Itoa(len(ctx.Headers()["X-Conformance"])))
	out.put("vars.count", strconv.Itoa(len(ctx.Vars())))
	return []byte(out.String()), nil
}

// text returns the payload as text, or INVALID_ARGUMENT when it is not
// UTF-8, as the Rust SDK's text handlers do.
func text(payload []byte) (string, error) {
	if !utf8.Valid(payload) {
		return "", warden.NewError("payload is not valid UTF-8", warden.CodeInvalidArgument)
	}
	return string(payload), nil
}

// logRPC logs the payload at each level and returns the lowest level written.
func logRPC(ctx *warden.Context, payload []byte) ([]byte, error) {
	p, err := text(payload)
	if err != nil {
		return nil, err
	}
	log := ctx.Logger()
	log.Debug("debug %s", p)
	log.Info("info %s", p)
	log.Warn("warn %s", p)
	log.Error("error %s", p)
	return strconv.AppendInt(nil, int64(log.Level()), 10), nil
}

// status names the outcome of a database call: "ok", or the lowercase
// name of the failed call's status.
func status(err error) string {
	if err == nil {
		return "ok"
	}
	var st warden.Status
	if errors.As(err, &st) {
		return strings.ToLower(st.String())
	}
	return "unknown"
}

const (
	createSQL = "CREATE TABLE IF NOT EXISTS conf_values (id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, t TEXT, b BLOB)"
	insertSQL = "INSERT INTO conf_values (id, i, f, t, b) VALUES ($1, $2, $3, $4, $5)"
)

// insertArgs returns insertSQL's parameters for id: v in the column of its
// kind (i, f, t, b), NULL in the others.
func insertArgs(id int64, v db.Value) []any {
	args := []any{id, nil, nil, nil, nil}
	switch v.Kind() {
	case db.KindInt:
		args[1] = v
	case db.KindFloat:
		args[2] = v
	case db.KindText:
		args[3] = v
	case db.KindBlob:
		args[4] = v
	}
	return args
}

// values are the values of step 2, for ids 1, 2, ...
func values() []db.Value {
	return []db.Value{
		db.Null(),
		db.Int(math.MinInt64),
		db.Int(math.MaxInt64),
		db.Int(0),
		db.Float(0.5),
		db.Float(math.Inf(1)),
		db.Float(math.Inf(-1)),
		db.Float(math.NaN()),
		db.Text(""),
		db.Text("héllo, 世界"),
		db.Blob([]byte{}),
		db.Blob([]byte{0x00, 0xff, 0x10}),
	}
}

// dbRPC runs the spec's seven database steps and prints one line per step.
func dbRPC(_ *warden.Context, _ []byte) ([]byte, error) {
	var out lines
	_, err := db.Exec(createSQL)
	out.put("create", status(err))
	err = db.Transaction(db.ReadWrite, func(tx *db.Tx) error {
		for i, v := range values() {
			if _, err := tx.Exec(insertSQL, insertArgs(int64(i+1), v)...); err != nil {
				return err
			}
		}
		return nil
	})
	out.put("insert", status(err))
	selectAll(&out)
	txRules(&out)
	out.put("engine", db.CurrentEngine().String())
	if n, err := db.Exec("DELETE FROM conf_values"); err != nil {
		out.put("deleted", status(err))
	} else {
		out.put("deleted", strconv.FormatInt(n, 10))
	}
	return []byte(out.String()), nil
}

// cell renders a value as "null" or "<type>:<value>".
func cell(v db.Value) string {
	switch v.Kind() {
	case db.KindInt:
		n, _ := v.Int()
		return "int:" + strconv.FormatInt(n, 10)
	case db.KindFloat:
		x, _ := v.Float()
		bits := strconv.FormatUint(math.Float64bits(x), 16)
		return "float:" + strings.Repeat("0", 16-len(bits)) + bits
	case db.KindText, db.KindBlob:
		b, _ := v.Blob()
		return v.Kind().String() + ":" + hex(b)
	}
	return "null"
}

const hexDigits = "0123456789abcdef"

// hex returns the lowercase hexadecimal of b.
func hex(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

// selectAll is step 3: the columns, then one line per row.
func selectAll(out *lines) {
	res, err := db.Query("SELECT id, i, f, t, b FROM conf_values ORDER BY id")
	if err != nil {
		out.put("select", status(err))
		return
	}
	out.put("columns", strings.Join(res.Columns, ","))
	for _, row := range res.Rows {
		id := "?"
		if n, ok := row[0].Int(); ok {
			id = strconv.FormatInt(n, 10)
		}
		out.WriteString(id)
		for _, v := range row[1:] {
			out.WriteString("|" + cell(v))
		}
		out.WriteString("\n")
	}
}

// txRules is steps 4 and 5: a failed transaction, then a read-only one.
func txRules(out *lines) {
	out.put("begin", status(db.Begin(db.ReadWrite)))
	_, err := db.Exec("INSERT INTO conf_missing_table VALUES (1)")
	out.put("bad", status(err))
	_, err = db.Exec(insertSQL, insertArgs(100, db.Null())...)
	out.put("after_bad", status(err))
	out.put("commit_failed", status(db.Commit()))
	out.put("rollback", status(db.Rollback()))
	res, err := db.Query("SELECT COUNT(*) FROM conf_values WHERE id = 100")
	switch {
	case err != nil:
		out.put("count_100", status(err))
	case len(res.Rows) == 0:
		out.put("count_100", "?")
	default:
		n, ok := res.Rows[0][0].Int()
		out.put("count_100", opt(strconv.FormatInt(n, 10), ok))
	}

	out.put("begin_read", status(db.Begin(db.ReadOnly)))
	_, err = db.Exec(insertSQL, insertArgs(101, db.Null())...)
	out.put("write_in_read", status(err))
	out.put("rollback_read", status(db.Rollback()))
}

// errorRPC fails with the code in the payload and the message "error N".
func errorRPC(_ *warden.Context, payload []byte) ([]byte, error) {
	p, err := text(payload)
	if err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return nil, warden.NewError("payload must be a number", warden.CodeInvalidArgument)
	}
	return nil, warden.NewError("error "+strconv.FormatInt(n, 10), warden.Code(n))
}

// panicRPC panics; the SDK reports the message and its location to the host.
func panicRPC(_ *warden.Context, _ []byte) ([]byte, error) {
	panic("conformance panic")
}

// echoRPC returns the payload unchanged.
func echoRPC(_ *warden.Context, payload []byte) ([]byte, error) {
	return payload, nil
}

// textRPC returns "<code points>:<payload>".
func textRPC(_ *warden.Context, payload []byte) ([]byte, error) {
	p, err := text(payload)
	if err != nil {
		return nil, err
	}
	return []byte(strconv.Itoa(utf8.RuneCountInString(p)) + ":" + p), nil
}

// whoamiRPC says whether the call has a user.
func whoamiRPC(ctx *warden.Context, _ []byte) ([]byte, error) {
	if _, ok := ctx.UserID(); ok {
		return []byte("user"), nil
	}
	return []byte("server"), nil
}
