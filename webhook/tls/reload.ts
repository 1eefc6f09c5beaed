/**
 * `provided` TLS mode: the serving key and certificate come from files (a Secret volume, often
 * written by cert-manager) and are reloaded when they change, without a restart. Kubernetes
 * updates Secret volumes by swapping a `..data` symlink, which a watch on the file itself misses,
 * so the directory is watched; a periodic stat is the fallback where fs.watch is unreliable.
 */
import { createSecureContext } from 'node:tls';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { CertPair } from './generate.ts';

export interface CertReloaderOptions {
  readonly certFile: string;
  readonly keyFile: string;
  /** Called with each new, valid pair (not for the first load). */
  readonly onChange: (pair: CertPair) => void;
  readonly onError?: ((err: Error) => void) | undefined;
  /** Stat fallback period. */
  readonly intervalMs?: number | undefined;
}

export interface CertReloader {
  /** The pair in use. */
  current(): CertPair;
  /** Re-read now (also what the watchers call). Resolves true when the pair changed. */
  check(): boolean;
  close(): void;
}

/** Read and check a pair; throws when the files are missing or the key does not match the cert. */
export function readPair(certFile: string, keyFile: string): CertPair {
  const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  // Throws on a mismatched key or a malformed PEM, so a half-written update is never served.
  createSecureContext(pair);
  return pair;
}

/** Load the pair now (throws if it cannot) and keep it fresh. */
export function createCertReloader(opts: CertReloaderOptions): CertReloader {
  let pair = readPair(opts.certFile, opts.keyFile);
  let stamp = stampOf(opts);
  const check = (): boolean => {
    const now = stampOf(opts);
    if (now === stamp) return false;
    try {
      const next = readPair(opts.certFile, opts.keyFile);
      stamp = now;
      if (next.cert === pair.cert && next.key === pair.key) return false;
      pair = next;
      opts.onChange(pair);
      return true;
    } catch (err) {
      // Mid-swap or broken: keep serving the old pair, try again on the next event or tick.
      opts.onError?.(err as Error);
      return false;
    }
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(opts.certFile), dirname(opts.keyFile)])) {
    try {
      const w = watch(dir, { persistent: false }, () => check());
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // The periodic check below still covers it.
    }
  }
  const timer = setInterval(check, opts.intervalMs ?? 10_000);
  timer.unref();
  return {
    current: () => pair,
    check,
    close() {
      clearInterval(timer);
      for (const w of watchers) w.close();
    },
  };
}

function stampOf(o: { certFile: string; keyFile: string }): string {
  try {
    // statSync follows symlinks, so a swapped `..data` link shows up as a new inode or mtime.
    const a = statSync(o.certFile);
    const b = statSync(o.keyFile);
    return `${a.ino}:${a.mtimeMs}:${a.size}|${b.ino}:${b.mtimeMs}:${b.size}`;
  } catch {
    return 'missing';
  }
}
