package warden

import (
	"fmt"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
)

// Level is a log level (ABI.md 3.4).
type Level int32

// Log levels. LevelDisabled is what Logger.Level returns when the server
// writes nothing.
const (
	LevelDebug    Level = 0
	LevelInfo     Level = 1
	LevelWarn     Level = 2
	LevelError    Level = 3
	LevelDisabled Level = 7
)

// Logger writes to the server log; the host tags each line with the
// plugin, its version, the RPC id and the trace id. Its methods take
// fmt.Sprintf arguments, as Nakama's runtime.Logger, and skip formatting
// when the server drops the level. The zero Logger is ready to use; a
// handler can also get one from ctx.Logger(). Messages over 8 KiB are cut.
type Logger struct{}

// Level returns the lowest level the server writes, or LevelDisabled.
func (Logger) Level() Level { return Level(sys.LogLevel()) }

// Enabled reports whether the server writes lines at level.
func (l Logger) Enabled(level Level) bool { return level >= l.Level() }

// Print writes msg as it is at level.
func (Logger) Print(level Level, msg string) { sys.Log(int32(level), msg) }

func (l Logger) logf(level Level, format string, args []any) {
	if !l.Enabled(level) {
		return
	}
	l.Print(level, fmt.Sprintf(format, args...))
}

// Debug logs at DEBUG.
func (l Logger) Debug(format string, args ...any) { l.logf(LevelDebug, format, args) }

// Info logs at INFO.
func (l Logger) Info(format string, args ...any) { l.logf(LevelInfo, format, args) }

// Warn logs at WARN.
func (l Logger) Warn(format string, args ...any) { l.logf(LevelWarn, format, args) }

// Error logs at ERROR.
func (l Logger) Error(format string, args ...any) { l.logf(LevelError, format, args) }
