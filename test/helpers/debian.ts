/**
 * Debian packages a test needs (Chromium for the browser test): present, or installed with
 * apt-get when this is a fresh root machine (CI runs `bash .ci/run` on a clean clone); otherwise
 * one line naming the package. Nothing else is ever downloaded at test time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Absolute path of `binary` once package `pkg` is installed. Throws one clear line if it cannot be. */
export function ensureDebianPackage(binary: string, pkg: string): string {
  if (existsSync(binary)) return binary;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (process.getuid?.() !== 0 || !hasApt) throw new Error(`${binary} is missing: install the Debian package ${pkg} (apt-get install ${pkg})`);
  // The lock timeout lets two test files that each need a package install one after the other.
  const apt = (args: string[]): void => {
    execFileSync('apt-get', args, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  };
  try {
    apt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg]);
  } catch {
    // A fresh image has no package lists yet.
    apt(['update']);
    apt(['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg]);
  }
  if (!existsSync(binary)) throw new Error(`apt-get installed ${pkg} but ${binary} is still missing`);
  return binary;
}
