package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
)

// usage lists the subcommands; `warden serve -h` lists the server's flags.
const usage = `usage: warden [serve] [flags]   run the server (the default; -h lists the flags)
       warden new --lang rust|assemblyscript|go|c NAME [DIR]
                                 write a plugin project
       warden version            print the version
`

// dispatch runs the subcommand args name: serve (the default, so that
// `warden -addr X` is `warden serve -addr X`), new or version.
//
// # Errors
//
// The subcommand's, or an unknown subcommand.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return run(ctx, args, getenv, stdout, stderr)
	}
	switch args[0] {
	case "serve":
		return run(ctx, args[1:], getenv, stdout, stderr)
	case "new":
		return runNew(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "warden %s %s/%s %s\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: want serve, new or version", args[0])
}
