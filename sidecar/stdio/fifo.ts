/**
 * The two FIFOs the MCP container's wrapper creates: `in` (the server's stdin) and `out` (its
 * stdout). Both are opened non-blocking and wrapped in net.Socket, so libuv polls them like pipes
 * and no threadpool thread ever blocks on a FIFO (a blocking open or read would hold one forever).
 *
 * Order matters and follows the wrapper: its shell opens `in` for reading first and blocks until a
 * writer appears, then opens `out` for writing. A non-blocking open of `in` for writing fails with
 * ENXIO until that reader exists (Linux fifo_open counts a blocked opener as a reader), so its
 * success means "the wrapper is waiting". Opening `out` for reading then never sees a spurious EOF:
 * Linux reports POLLHUP to a reader only after a writer has come and gone.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The server's end of the conversation, seen from the bridge. */
export interface FifoPair {
  /** Writes reach the server's stdin. */
  readonly toServer: Socket;
  /** The server's stdout. */
  readonly fromServer: Socket;
}

/** Why the bridge is still waiting: shown by /readyz and logged when it changes. */
export type FifoWait = 'missing' | 'no-reader' | 'not-fifo';

export const FIFO_IN = 'in';
export const FIFO_OUT = 'out';

const FLAGS_IN = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const FLAGS_OUT = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

function isFifo(path: string): boolean | undefined {
  try {
    return lstatSync(path).isFIFO();
  } catch {
    return undefined;
  }
}

/** One attempt: the pair, or why not yet. Never blocks. */
export function tryOpenFifos(dir: string): FifoPair | FifoWait {
  const inPath = join(dir, FIFO_IN);
  const outPath = join(dir, FIFO_OUT);
  const kinds = [isFifo(inPath), isFifo(outPath)];
  if (kinds.includes(undefined)) return 'missing';
  // A regular file or a symlink in place of a FIFO would make the bridge write to, or read from,
  // something that is not the server: refuse rather than guess.
  if (kinds.includes(false)) return 'not-fifo';
  let inFd: number;
  try {
    inFd = openSync(inPath, FLAGS_IN);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') return 'no-reader';
    if (code === 'ENOENT') return 'missing';
    if (code === 'ELOOP') return 'not-fifo';
    throw err;
  }
  let outFd: number;
  try {
    outFd = openSync(outPath, FLAGS_OUT);
  } catch (err) {
    closeSync(inFd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ELOOP') return 'not-fifo';
    throw err;
  }
  // The checks above ran on paths; these run on what was opened (no swap in between).
  if (!fstatSync(inFd).isFIFO() || !fstatSync(outFd).isFIFO()) {
    closeSync(inFd);
    closeSync(outFd);
    return 'not-fifo';
  }
  return { toServer: new Socket({ fd: inFd, readable: false, writable: true }), fromServer: new Socket({ fd: outFd, readable: true, writable: false }) };
}

/**
 * Poll until the wrapper waits on the FIFOs, then open them. `onWait` hears every unsuccessful
 * attempt (the caller reports changes). Rejects with the signal's reason when aborted.
 */
export async function openFifos(dir: string, opts: { readonly signal: AbortSignal; readonly pollMs: number; readonly onWait: (why: FifoWait) => void }): Promise<FifoPair> {
  for (;;) {
    opts.signal.throwIfAborted();
    const r = tryOpenFifos(dir);
    if (typeof r !== 'string') return r;
    opts.onWait(r);
    await sleep(opts.pollMs, undefined, { signal: opts.signal });
  }
}
