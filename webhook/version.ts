/** The mcp-warden version, from package.json (esbuild inlines it into the bundles). */
import pkg from '../package.json' with { type: 'json' };

export const WARDEN_VERSION: string = pkg.version;
