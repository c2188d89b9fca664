// Logging to the server log, which the host tags with the plugin, its
// version, the RPC id and the trace id (ABI.md 3.4).

import { log, log_level } from "./env";
import { Level } from "./abi";
import { encode } from "./utf8";

/**
 * logger writes to the server log: logger.info("hello"). Each function
 * skips encoding and the host call when the server drops its level.
 */
export namespace logger {
  // The server's level, asked once per call: -1 until then. The SDK resets it
  // when a call starts, so a level changed between calls is seen.
  let threshold: i32 = -1;

  /** @internal Forgets the level asked in an earlier call. */
  export function resetLevel(): void {
    threshold = -1;
  }

  /**
   * level returns the lowest level the server writes (log_level), or
   * Level.DISABLED when logging is off.
   */
  export function level(): Level {
    if (threshold < 0) threshold = log_level();
    return <Level>threshold;
  }

  /**
   * enabled reports whether the server writes lines at level `at`. Check it
   * before building an expensive message:
   *
   * ```ts
   * if (logger.enabled(Level.DEBUG)) logger.debug("state: " + big.toString());
   * ```
   */
  export function enabled(at: Level): bool {
    return <i32>at >= <i32>level();
  }

  /**
   * write logs `msg` at level `at`, unless the server drops it. The
   * message goes as UTF-8; the host cuts it at 8 KiB.
   */
  export function write(at: Level, msg: string): void {
    if (!enabled(at)) return;
    const b = encode(msg);
    // A failure (only a bad level, impossible here) is ignored: logging is best effort.
    log(<i32>at, b.dataStart, <usize>b.length);
  }

  /** debug logs `msg` at DEBUG. */
  export function debug(msg: string): void {
    write(Level.DEBUG, msg);
  }

  /** info logs `msg` at INFO. */
  export function info(msg: string): void {
    write(Level.INFO, msg);
  }

  /** warn logs `msg` at WARN. */
  export function warn(msg: string): void {
    write(Level.WARN, msg);
  }

  /** error logs `msg` at ERROR. */
  export function error(msg: string): void {
    write(Level.ERROR, msg);
  }
}
