// npm run bench: runs every bench/*.bench.ts in turn (each bounded, loopback only) and prints
// their tables. One figure per script; each prints a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f.replace('.bench.ts', '')}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, f)], { stdio: 'inherit', timeout: 180_000 });
  if (r.status !== 0) {
    failed++;
    console.log(`(${f} failed: ${r.error?.message ?? `exit ${r.status}`})`);
  }
}
process.exit(failed ? 1 : 0);
