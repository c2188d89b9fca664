package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// dbArgs reads (sql_ptr, sql_len, args_ptr, args_len) from stack and decodes
// them. It returns a failure status (recorded as the last error) when they
// are out of bounds, too large or malformed, or when there is no database.
func dbArgs(st *callState, m api.Memory, stack []uint64) (string, []any, abi.Status) {
	if st.p.db == nil {
		return "", nil, st.fail(abi.StatusUnimplemented, "no database is configured")
	}
	sqlLen, argsLen := u32(stack, 1), u32(stack, 3)
	if sqlLen > abi.MaxSQLBytes || argsLen > abi.MaxArgsBytes {
		return "", nil, st.fail(abi.StatusLimitExceeded, "sql or arguments over the limit")
	}
	sql, ok := guestRead(m, u32(stack, 0), sqlLen)
	if !ok {
		return "", nil, st.fail(abi.StatusInvalidMemory, "sql out of bounds")
	}
	query := string(sql) // copy before the guest can run again
	raw, ok := guestRead(m, u32(stack, 2), argsLen)
	if !ok {
		return "", nil, st.fail(abi.StatusInvalidMemory, "arguments out of bounds")
	}
	args, err := abi.DecodeValues(raw)
	if err != nil {
		return "", nil, st.fail(abi.StatusBadArgument, fmt.Sprintf("decode arguments: %v", err))
	}
	return query, args, abi.StatusOK
}

// dbFail records err as the last error and returns its status.
func dbFail(ctx context.Context, st *callState, err error) abi.Status {
	return st.fail(dbStatus(ctx, err), err.Error())
}

// dbEngine: () -> engine.
func dbEngine(_ context.Context, st *callState, _ api.Memory, stack []uint64) {
	e := abi.EngineNone
	if dbs := st.p.host.cfg.Databases; dbs != nil {
		switch dbs.Engine() {
		case "sqlite":
			e = abi.EngineSQLite
		case "postgres":
			e = abi.EnginePostgres
		}
	}
	retStatus(stack, int32(e))
}

// dbExec: (sql_ptr, sql_len, args_ptr, args_len) -> rows affected or -status.
func dbExec(ctx context.Context, st *callState, m api.Memory, stack []uint64) {
	query, args, s := dbArgs(st, m, stack)
	if s != abi.StatusOK {
		lenOrStatus(stack, 0, s)
		return
	}
	n, err := st.session().Exec(ctx, query, args)
	st.p.dbStats.count(err)
	if err != nil {
		lenOrStatus(stack, 0, dbFail(ctx, st, err))
		return
	}
	retLen(stack, n)
}

// dbQuery: (sql_ptr, sql_len, args_ptr, args_len) -> result length or
// -status. The encoded rows go to the call's result slot.
func dbQuery(ctx context.Context, st *callState, m api.Memory, stack []uint64) {
	query, args, s := dbArgs(st, m, stack)
	if s != abi.StatusOK {
		lenOrStatus(stack, 0, s)
		return
	}
	rows, err := st.session().Query(ctx, query, args)
	st.p.dbStats.count(err)
	if err != nil {
		lenOrStatus(stack, 0, dbFail(ctx, st, err))
		return
	}
	enc, err := abi.EncodeRows(rows.Columns, rows.Values)
	if err != nil {
		lenOrStatus(stack, 0, st.fail(abi.StatusInternal, fmt.Sprintf("encode rows: %v", err)))
		return
	}
	st.slot, st.slotSet = enc, true
	retLen(stack, int64(len(enc)))
}

// resultRead: (dst_ptr, dst_cap) -> length or -status. Copies the result
// slot with the buffer convention and empties it once copied.
func resultRead(_ context.Context, st *callState, m api.Memory, stack []uint64) {
	if !st.slotSet {
		lenOrStatus(stack, 0, st.fail(abi.StatusNotFound, "no result to read"))
		return
	}
	dst, dstCap := u32(stack, 0), u32(stack, 1)
	if !guestRange(m, dst, dstCap) {
		lenOrStatus(stack, 0, st.fail(abi.StatusInvalidMemory, "destination out of bounds"))
		return
	}
	n := len(st.slot)
	if uint64(n) <= uint64(dstCap) {
		guestWrite(m, dst, st.slot)
		st.slot, st.slotSet = nil, false
	}
	retLen(stack, int64(n))
}

// dbBegin: (mode) -> status.
func dbBegin(ctx context.Context, st *callState, _ api.Memory, stack []uint64) {
	mode := abi.TxMode(i32(stack, 0))
	if mode != abi.TxRead && mode != abi.TxWrite {
		status(stack, st.fail(abi.StatusBadArgument, "unknown transaction mode"))
		return
	}
	if st.p.db == nil {
		status(stack, st.fail(abi.StatusUnimplemented, "no database is configured"))
		return
	}
	if err := st.session().Begin(ctx, mode == abi.TxWrite); err != nil {
		status(stack, dbFail(ctx, st, err))
		return
	}
	status(stack, abi.StatusOK)
}

// dbCommit: () -> status.
func dbCommit(ctx context.Context, st *callState, _ api.Memory, stack []uint64) {
	dbFinish(ctx, st, stack, true)
}

// dbRollback: () -> status.
func dbRollback(ctx context.Context, st *callState, _ api.Memory, stack []uint64) {
	dbFinish(ctx, st, stack, false)
}

func dbFinish(ctx context.Context, st *callState, stack []uint64, commit bool) {
	if st.db == nil || !st.db.InTx() {
		status(stack, st.fail(abi.StatusTxState, "no transaction is open"))
		return
	}
	var err error
	if commit {
		err = st.db.Commit(ctx)
	} else {
		err = st.db.Rollback(ctx)
	}
	if err != nil {
		status(stack, dbFail(ctx, st, err))
		return
	}
	status(stack, abi.StatusOK)
}

// dbStatus maps a storage error to the ABI status a guest sees.
func dbStatus(ctx context.Context, err error) abi.Status {
	var sqlErr *storage.SQLError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return abi.StatusCancelled
	case errors.Is(err, storage.ErrBusy):
		return abi.StatusDBBusy
	case errors.Is(err, storage.ErrTxFailed):
		return abi.StatusTxFailed
	case errors.Is(err, storage.ErrTxOpen), errors.Is(err, storage.ErrNoTx):
		return abi.StatusTxState
	case errors.Is(err, storage.ErrReadOnly):
		return abi.StatusDBReadOnly
	case errors.Is(err, storage.ErrLimit):
		return abi.StatusLimitExceeded
	case errors.Is(err, storage.ErrNotAllowed):
		return abi.StatusNotAllowed
	case errors.As(err, &sqlErr):
		return abi.StatusDBError
	}
	return abi.StatusInternal
}
