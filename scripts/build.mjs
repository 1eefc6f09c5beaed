// Bundles each program into one ESM file under dist/ with esbuild. The bundles run with plain
// `node dist/<name>.mjs` from a folder that has no node_modules (the container images copy only
// these files). A size budget per bundle fails the build when a dependency bloats it.
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** name -> entry point and size budget in bytes. */
const ENTRIES = {
  sidecar: { entry: 'sidecar/main.ts', budget: 1024 * 1024 },
  // The MCP SDK's server and client halves (the bridge is both), each with its own copy of the
  // protocol core and zod: about 0.95 MB.
  'stdio-bridge': { entry: 'sidecar/stdio/main.ts', budget: 1280 * 1024 },
  webhook: { entry: 'webhook/main.ts', budget: 4 * 1024 * 1024 },
  cli: { entry: 'webhook/cli-main.ts', budget: 4 * 1024 * 1024 },
};

const only = process.argv.slice(2);
let failed = false;
for (const [name, { entry, budget }] of Object.entries(ENTRIES)) {
  if (only.length > 0 && !only.includes(name)) continue;
  const outfile = join(root, 'dist', `${name}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: false,
    legalComments: 'linked',
    logLevel: 'warning',
    // CommonJS dependencies bundled into ESM still call require() for node builtins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const size = statSync(outfile).size;
  const ok = size <= budget;
  if (!ok) failed = true;
  console.log(`build: dist/${name}.mjs ${(size / 1024).toFixed(0)} KiB (budget ${(budget / 1024).toFixed(0)} KiB)${ok ? '' : ' OVER BUDGET'}`);
}
if (failed) process.exit(1);
