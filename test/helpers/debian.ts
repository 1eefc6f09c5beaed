/**
 * System programs from Debian packages (prometheus and promtool, redis-server, chromium). A test
 * needs the program; on a fresh machine (CI runs a clean clone as root) the helper installs the
 * package with apt-get, under a lock so parallel test files never run apt-get at the same time
 * (two concurrent `apt-get update`s fail on the lists lock). Without root or apt-get it fails with
 * one line naming the package. Nothing else is ever downloaded at test time.
 */
import { execFileSync, spawnSync } from 'node:child_process';

function onPath(binary: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Absolute path of `binary` (a name on PATH or an absolute path), installing Debian package `pkg` first when it is missing. */
export function ensureDebianPackage(binary: string, pkg: string): string {
  const found = onPath(binary);
  if (found) return found;
  const root = process.getuid?.() === 0;
  if (!root || !onPath('apt-get') || !onPath('flock')) throw new Error(`${binary} is missing: install the Debian package ${pkg} (apt-get install ${pkg})`);
  // One installer at a time; a waiter finds the binary once the first is done. The package
  // lists may be stale or absent on a fresh machine: update, then install.
  const script = `command -v ${binary} >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkg}; }`;
  try {
    execFileSync('flock', ['/tmp/mcp-warden-apt.lock', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  } catch (err) {
    throw new Error(`${binary} is missing and apt-get install ${pkg} failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').at(-1)}`, { cause: err });
  }
  const installed = onPath(binary);
  if (!installed) throw new Error(`${binary} is missing after apt-get install ${pkg}`);
  return installed;
}
