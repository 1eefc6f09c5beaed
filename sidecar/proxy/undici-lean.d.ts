// Deep imports of undici's pool and request API. The package index pulls in fetch, WebSocket,
// caches and more (about 700 KB minified), which esbuild cannot tree-shake out of CommonJS; the
// sidecar needs only a pool (and its dispatch API), and the bundle must stay under 1 MB.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';
  const e: typeof errors;
  export = e;
}
