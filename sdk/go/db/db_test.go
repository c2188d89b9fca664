package db

import (
	"errors"
	"reflect"
	"testing"

	warden "github.com/warden-rpc/warden/sdk/go"
	"github.com/warden-rpc/warden/sdk/go/internal/fakehost"
)

func TestExec(t *testing.T) {
	h := fakehost.Reset()
	h.DBAffected = 3
	n, err := Exec("DELETE FROM t WHERE k = $1 AND n = $2", "a", 1)
	if err != nil || n != 3 {
		t.Fatalf("Exec = %d, %v; want 3, nil", n, err)
	}
	want := encodeValues([]Value{Text("a"), Int(1)})
	if !reflect.DeepEqual(h.DBArgs[0], want) {
		t.Errorf("args = %v, want %v", h.DBArgs[0], want)
	}
}

func TestExec_ErrBadArgument(t *testing.T) {
	fakehost.Reset()
	_, err := Exec("SELECT $1", struct{}{})
	if !errors.Is(err, warden.StatusBadArgument) {
		t.Errorf("Exec(struct{}) error = %v, want BAD_ARGUMENT", err)
	}
}

func TestQuery(t *testing.T) {
	h := fakehost.Reset()
	h.DBResult = resultBytes([]string{"v"}, 1, Int(42))
	res, err := Query("SELECT v FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := res.Rows[0][0].Int(); !ok || n != 42 {
		t.Errorf("value = %v, want 42", res.Rows[0][0])
	}
}

func TestQuery_ErrDB(t *testing.T) {
	fakehost.Reset()
	_, err := Query("SELECT * FROM nope")
	var e *Error
	if !errors.As(err, &e) || e.Status != warden.StatusDBError || e.Message != "no such table: fake" {
		t.Fatalf("Query error = %#v, want DB_ERROR with the host's message", err)
	}
	if err.Error() != "DB_ERROR: no such table: fake" || !errors.Is(err, warden.StatusDBError) {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestTransaction(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(tx *Tx) error
		wantLog []string
		wantErr bool
	}{
		{"OK", func(tx *Tx) error {
			_, err := tx.Exec("UPDATE t SET v = 1")
			return err
		}, []string{"BEGIN 1", "UPDATE t SET v = 1", "COMMIT"}, false},
		{"ErrRollback", func(tx *Tx) error {
			_, _ = tx.Exec("UPDATE t SET v = 1")
			return errors.New("stop")
		}, []string{"BEGIN 1", "UPDATE t SET v = 1", "ROLLBACK"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakehost.Reset()
			err := Transaction(ReadWrite, tt.fn)
			if (err != nil) != tt.wantErr {
				t.Errorf("Transaction error = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(h.DBLog, tt.wantLog) {
				t.Errorf("db log = %q, want %q", h.DBLog, tt.wantLog)
			}
		})
	}
}

func TestTransaction_PanicRollsBack(t *testing.T) {
	h := fakehost.Reset()
	func() {
		defer func() { _ = recover() }()
		_ = Transaction(ReadOnly, func(*Tx) error { panic("boom") })
	}()
	want := []string{"BEGIN 0", "ROLLBACK"}
	if !reflect.DeepEqual(h.DBLog, want) {
		t.Errorf("db log = %q, want %q", h.DBLog, want)
	}
}

func TestEngine_String(t *testing.T) {
	if got := CurrentEngine().String(); got != "sqlite" {
		t.Errorf("CurrentEngine() = %s, want sqlite (the fake's)", got)
	}
	if Engine(9).String() != "9" || EngineNone.String() != "none" {
		t.Error("Engine.String")
	}
}
