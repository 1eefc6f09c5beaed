/**
 * API-key authentication.
 *
 * Keys come from MCP_AUTH_KEY (several, comma-separated, for rotation) and/or a file of keys, one a
 * line, that is re-read when it changes: Kubernetes updates a mounted Secret in place by swapping a
 * symlink, so the file is watched through its directory and, as a fallback for filesystems where
 * watches miss events, checked on a timer. A file that becomes unreadable or empty keeps the last
 * good keys (a half-written rotation must not lock every client out) and says so in the log.
 *
 * Comparison is constant-time: the presented value and every key are brought to one fixed width
 * (the longest key's length, zero-padded; a longer value is cut to it) and compared with
 * timingSafeEqual, and their lengths are compared too, for every key whichever matches, so neither
 * the key's length nor which key matched shows in the timing. (Hashing both to SHA-256 did the same
 * and cost about 20 us a request in the sidecar, more than any other protection.)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Safe to log: `key:` and the first 12 hex digits of the key's SHA-256. */
export function keyId(key: string): string {
  return idOf(createHash('sha256').update(key).digest());
}

const idOf = (digest: Buffer): string => `key:${digest.toString('hex', 0, 6)}`;

interface KeyEntry {
  readonly bytes: Buffer;
  readonly id: string;
}

function entry(key: string): KeyEntry {
  return { bytes: Buffer.from(key, 'utf8'), id: keyId(key) };
}

/** Keys in force, each padded to one width (the longest key's) for the comparison. */
interface KeySet {
  readonly keys: readonly KeyEntry[];
  readonly padded: readonly Buffer[];
}

function keySet(keys: readonly KeyEntry[]): KeySet {
  const width = Math.max(1, ...keys.map((k) => k.bytes.length));
  return {
    keys,
    padded: keys.map((k) => {
      const b = Buffer.alloc(width);
      k.bytes.copy(b);
      return b;
    }),
  };
}

/** Keys in a file: one a line; blank lines and lines starting with '#' are ignored. */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export interface KeyStoreEvents {
  /** The file was re-read: how many keys it now holds. */
  onReload?: (count: number) => void;
  /** The file could not be used; the previous keys stay in force. */
  onReloadError?: (message: string) => void;
}

export interface KeyStore {
  /** The key id of the matching key, or undefined. Constant-time over all keys. */
  match(presented: string): string | undefined;
  /** Number of keys in force. */
  readonly size: number;
  /** Re-read the key file now (also done on change). */
  reload(): void;
  close(): void;
}

/** Bound on the recheck fallback: a rotated Secret takes effect within this time. */
const RECHECK_MS = 2_000;

export function createKeyStore(opts: { keys: readonly string[]; file?: string | undefined } & KeyStoreEvents): KeyStore {
  const fixed = opts.keys.map(entry);
  let set = keySet(fixed);
  let lastStamp = '';
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;

  const stamp = (file: string): string => {
    try {
      const s = statSync(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };

  const reload = (): void => {
    const file = opts.file;
    if (file === undefined) return;
    lastStamp = stamp(file);
    let keys: string[];
    try {
      keys = parseKeyFile(readFileSync(file, 'utf8'));
    } catch (err) {
      opts.onReloadError?.(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; keeping ${set.keys.length} key(s)`);
      return;
    }
    if (keys.length === 0) {
      opts.onReloadError?.(`key file ${file} holds no keys; keeping ${set.keys.length} key(s)`);
      return;
    }
    const fromFile = keys.map(entry);
    set = keySet([...fixed, ...fromFile]);
    opts.onReload?.(fromFile.length);
  };

  if (opts.file !== undefined) {
    const file = opts.file;
    reload();
    try {
      // Watch the directory: a Secret update replaces the `..data` symlink, not the file itself.
      watcher = watch(dirname(file), { persistent: false }, () => {
        if (stamp(file) !== lastStamp) reload();
      });
      watcher.on('error', () => undefined);
    } catch {
      // No watch support: the timer below still picks up changes.
    }
    timer = setInterval(() => {
      if (stamp(file) !== lastStamp) reload();
    }, RECHECK_MS);
    timer.unref();
  }

  return {
    match(presented) {
      const { keys, padded } = set;
      const width = padded[0]?.length ?? 0;
      const bytes = Buffer.from(presented, 'utf8');
      const value = Buffer.alloc(width);
      bytes.copy(value, 0, 0, width);
      let found: string | undefined;
      for (let i = 0; i < keys.length; i++) {
        // No early exit: every key is compared, bytes and length both.
        const same = timingSafeEqual(value, padded[i]!);
        const sameLength = bytes.length === keys[i]!.bytes.length;
        if (same && sameLength && found === undefined) found = keys[i]!.id;
      }
      return found;
    },
    get size() {
      return set.keys.length;
    },
    reload,
    close() {
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };
}
