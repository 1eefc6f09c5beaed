/**
 * The shipped bundle, copied alone into an empty folder (no node_modules), as the container image
 * runs it. `npm test` builds dist/ before the tests; a single test file run builds it if missing.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function isolatedBundle(name: 'sidecar' | 'webhook' | 'cli' | 'stdio-bridge'): string {
  const built = join(ROOT, 'dist', `${name}.mjs`);
  if (!existsSync(built)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), name], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), `warden-${name}-`));
  const target = join(dir, `${name}.mjs`);
  copyFileSync(built, target);
  return target;
}
