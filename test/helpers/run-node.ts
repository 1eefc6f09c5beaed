/**
 * Run a process to its end and collect its exit code and output: a Node script on this test's
 * Node 24 (runNode), or any command (runCommand). A child that may hang is bounded by `killAfterMs`,
 * and the result says it was killed, so the test reports the hang instead of timing out itself.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether `killAfterMs` passed and the child was killed (its code is then null). */
  readonly killed: boolean;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Written to stdin, which is then closed (at once when unset). */
  readonly stdin?: string;
  /** Leave stdin open instead, so an exit is the child's own decision, not an answer to EOF. */
  readonly keepStdinOpen?: boolean;
  /** Added to this process's environment, or with `replaceEnv` the child's whole environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The child sees only `env`: nothing leaks in from the test's environment (NODE_OPTIONS, say). */
  readonly replaceEnv?: boolean;
  /** SIGKILL the child after this many milliseconds. */
  readonly killAfterMs?: number;
}

/** Run `command` with `args`; resolves once it has exited and its output is read. */
export function runCommand(command: string, args: readonly string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const env = opts.replaceEnv ? { ...opts.env } : { ...process.env, ...opts.env };
    const child = spawn(command, args, { ...(opts.cwd ? { cwd: opts.cwd } : {}), env });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer =
      opts.killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, opts.killAfterMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      // A killed child's own children may still hold its pipes: stop reading, so 'close' comes.
      if (killed) for (const s of [child.stdout, child.stderr]) s.destroy();
    });
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code, stdout, stderr, killed });
    });
    child.stdin.on('error', () => {}); // a child that exits without reading its stdin (EPIPE)
    if (!opts.keepStdinOpen) child.stdin.end(opts.stdin ?? '');
  });
}

/** Run a Node script (args[0]) on this test's Node 24. */
export function runNode(args: readonly string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return runCommand(process.execPath, args, opts);
}
