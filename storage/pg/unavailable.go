package pg

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATEs that mean the server is going away or not taking connections.
const (
	stateAdminShutdown   = "57P01" // admin_shutdown: a fast or smart stop
	stateCrashShutdown   = "57P02" // crash_shutdown
	stateCannotConnect   = "57P03" // cannot_connect_now: starting up or shutting down
	stateTooManyConns    = "53300" // too_many_connections
	classConnectionError = "08"    // connection_exception
)

// Unavailable reports whether err means that PostgreSQL could not be
// reached or dropped the connection: a refused or failed connect, a
// connection closed under a statement, a server shutting down or starting
// up. Such a failure is worth retrying once the server is back, unlike an
// SQL error. Context errors are not unavailability.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case stateAdminShutdown, stateCrashShutdown, stateCannotConnect, stateTooManyConns:
			return true
		}
		return strings.HasPrefix(pe.Code, classConnectionError)
	}
	var ne net.Error
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		(errors.As(err, &ne) && !ne.Timeout())
}
