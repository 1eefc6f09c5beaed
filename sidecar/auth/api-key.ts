/**
 * API-key authentication.
 *
 * Keys come from MCP_AUTH_KEY (several, comma-separated, for rotation) and/or a file of keys, one a
 * line, that is re-read when it changes: Kubernetes updates a mounted Secret in place by swapping a
 * symlink, so the file is watched through its directory and, as a fallback for filesystems where
 * watches miss events, checked on a timer. A file that becomes unreadable or empty keeps the last
 * good keys (a half-written rotation must not lock every client out) and says so in the log.
 *
 * Comparison is constant-time: the presented value and every key are hashed with SHA-256 to a
 * fixed length and compared with timingSafeEqual, and every key is compared whichever matches, so
 * neither the key's length nor which key matched shows in the timing.
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Safe to log: `key:` and the first 12 hex digits of the key's SHA-256. */
export function keyId(key: string): string {
  return idOf(createHash('sha256').update(key).digest());
}

const idOf = (digest: Buffer): string => `key:${digest.toString('hex', 0, 6)}`;

interface KeyEntry {
  readonly digest: Buffer;
  readonly id: string;
}

function entry(key: string): KeyEntry {
  const digest = createHash('sha256').update(key).digest();
  return { digest, id: idOf(digest) };
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
  let fromFile: KeyEntry[] = [];
  let all = fixed;
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
      opts.onReloadError?.(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; keeping ${all.length} key(s)`);
      return;
    }
    if (keys.length === 0) {
      opts.onReloadError?.(`key file ${file} holds no keys; keeping ${all.length} key(s)`);
      return;
    }
    fromFile = keys.map(entry);
    all = [...fixed, ...fromFile];
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
      // One-shot hash: a Hash object per request cost about twice as much.
      const digest = hash('sha256', presented, 'buffer');
      let found: string | undefined;
      for (const k of all) {
        // No early exit: every key is compared.
        if (timingSafeEqual(digest, k.digest) && found === undefined) found = k.id;
      }
      return found;
    },
    get size() {
      return all.length;
    },
    reload,
    close() {
      watcher?.close();
      if (timer) clearInterval(timer);
    },
  };
}
