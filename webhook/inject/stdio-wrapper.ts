/**
 * The MCP container's command in stdio mode: a small POSIX sh script that creates the two FIFOs in
 * the shared in-memory volume and then `exec`s the original argv with stdin and stdout on them
 * (stderr stays the container log). `exec` keeps the server as the container's main process, so it
 * receives SIGTERM itself and its exit is the container's exit.
 *
 * The webhook cannot look inside images. The script checks what it can before the exec and writes
 * the reason to the container's termination message (what `kubectl describe pod` shows under Last
 * State) when mkfifo or the server's command is missing. An image without /bin/sh cannot run the
 * script at all: the container then fails to start and the runtime's own message names /bin/sh.
 */

/** The script. Positional parameters: $1 the FIFO directory, $2 the termination message path, then the server's argv. */
export const WRAPPER_SCRIPT = [
  'd=$1 t=$2',
  'shift 2',
  // Both the log and the termination message say why, so either place a person looks shows it.
  'fail() { printf "mcp-warden: %s\\n" "$2" >&2; printf "mcp-warden: %s\\n" "$2" >"$t" 2>/dev/null; exit "$1"; }',
  'command -v mkfifo >/dev/null 2>&1 || fail 127 "stdio mode needs mkfifo in the MCP container image (coreutils or busybox); it is not on PATH=$PATH"',
  'command -v "$1" >/dev/null 2>&1 || fail 127 "the MCP server command \\"$1\\" is not in the image (PATH=$PATH); fix the container command or the mcp-warden.dev/stdio-command annotation"',
  // Mode 666: the bridge runs as another user; the volume is mounted by these two containers only.
  'for f in in out; do [ -p "$d/$f" ] || { rm -f "$d/$f" && mkfifo -m 666 "$d/$f"; } || fail 1 "cannot create the FIFO $d/$f (is the volume writable?)"; done',
  // The shell opens in before out; the bridge opens them in the same order (sidecar/stdio/fifo.ts).
  'exec "$@" <"$d/in" >"$d/out"',
].join('\n');

/** $0 of the script, so `ps` in the container shows what is running until the exec. */
export const WRAPPER_NAME = 'mcp-warden-stdio';

/** Where a container writes its termination message unless it says otherwise (Kubernetes default). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** The wrapped command: /bin/sh by absolute path, so a missing shell is named in the start error. */
export function wrapCommand(argv: readonly string[], fifoDir: string, terminationMessagePath: string): string[] {
  return ['/bin/sh', '-c', WRAPPER_SCRIPT, WRAPPER_NAME, fifoDir, terminationMessagePath, ...argv];
}

/**
 * The original argv of a wrapped command, or undefined when `command` is not one this module wrote
 * (inject() refuses a wrapper that no status record explains).
 */
export function unwrapCommand(command: readonly unknown[] | undefined): string[] | undefined {
  if (!command || command.length < 6 || command[0] !== '/bin/sh' || command[1] !== '-c' || command[2] !== WRAPPER_SCRIPT || command[3] !== WRAPPER_NAME) return undefined;
  return command.slice(6) as string[];
}
