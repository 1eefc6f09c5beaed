/**
 * A stdio MCP server's pod, injected by the webhook and run here (pod.ts): the sidecar image maps
 * to the shipped bundles (dist/sidecar.mjs and dist/stdio-bridge.mjs, each alone in a folder, run
 * by this Node as /nodejs/bin/node), the MCP image to an npm stdio server under /app with `node` on
 * its PATH. Ports come from a webhook configuration of free ports, so runs never collide.
 */
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../webhook/cli.ts';
import { parseWebhookConfig, type WebhookConfig } from '../../webhook/config.ts';
import { inject } from '../../webhook/inject/inject.ts';
import type { PodLike } from '../../webhook/inject/types.ts';
import { isolatedBundle } from './bundle.ts';
import { freePort } from './ports.ts';
import { runPod, type Image, type RunningPod } from './pod.ts';

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The local stdio servers, as images: where the package sits and how the pod spec starts it. */
export const SERVERS = {
  everything: { image: 'example/everything:1', dir: pkgDir('@modelcontextprotocol/server-everything'), argv: ['node', '/app/dist/index.js', 'stdio'] },
  memory: { image: 'example/memory:1', dir: pkgDir('@modelcontextprotocol/server-memory'), argv: ['node', '/app/dist/index.js'] },
  asks: { image: 'example/asks-client:1', dir: join(import.meta.dirname, '..', 'stdio', 'fixtures'), argv: ['node', '/app/asks-client.mjs'] },
} as const;

export type ServerName = keyof typeof SERVERS;

export const API_KEY = 'stdio-pod-key-0123456789';

export interface StdioPod {
  readonly pod: RunningPod;
  /** The sidecar's MCP endpoint, as clients reach it. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly injected: PodLike;
  readonly config: WebhookConfig;
}

/** A bin directory holding `node` (this Node), standing in for the image's node on PATH. */
function nodeBin(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bin-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

export interface StdioPodOptions {
  readonly server: ServerName;
  readonly annotations?: Record<string, string>;
  /** Fields merged into the MCP container (env, command, ...). */
  readonly container?: Record<string, unknown>;
  /** The MCP image's PATH; default the node bin dir, then /usr/bin:/bin (mkfifo). */
  readonly path?: (nodeBinDir: string) => string;
  /** Inject through the CLI (`mcp-warden inject -f`) instead of the inject core. */
  readonly cli?: boolean;
  readonly volumes?: ReadonlyArray<Record<string, unknown>>;
}

/** Inject a stdio pod for `server` and run it; resolves once the pod has started (not necessarily ready). */
export async function startStdioPod(o: StdioPodOptions): Promise<StdioPod> {
  const server = SERVERS[o.server];
  const [listenPort, adminPort, stdioListenPort, stdioAdminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = parseWebhookConfig({ sidecar: { listenPort, adminPort, stdioListenPort, stdioAdminPort } });
  const [cmd, ...args] = server.argv;
  const pod: PodLike = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.server,
      namespace: 'apps',
      annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/transport': 'stdio', 'mcp-warden.dev/apikey-secret': 'mcp-keys', ...o.annotations },
    },
    spec: {
      containers: [{ name: 'server', image: server.image, command: [cmd], args, ...o.container }],
      ...(o.volumes ? { volumes: [...o.volumes] as PodLike['spec']['volumes'] } : {}),
    },
  };
  let injected: PodLike;
  if (o.cli) {
    let out = '';
    let err = '';
    const code = await runCli(['inject', '-f', 'pod.yaml', '--config', 'config.yaml'], {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      readStdin: async () => '',
      readFile: (p) => (p === 'pod.yaml' ? stringify(pod) : stringify({ sidecar: { listenPort, adminPort, stdioListenPort, stdioAdminPort } })),
    });
    if (code !== 0) throw new Error(`mcp-warden inject exited ${code}: ${err}`);
    injected = parse(out) as PodLike;
  } else {
    const r = inject(pod, 'apps', config, { nativeSidecar: true });
    if (r.action !== 'injected') throw new Error(`not injected: ${JSON.stringify(r)}`);
    injected = r.object;
  }
  const bin = nodeBin();
  const sidecarImage: Image = {
    entrypoint: ['/nodejs/bin/node', '/app/dist/sidecar.mjs'],
    files: { '/nodejs/bin/node': process.execPath, '/app/dist/sidecar.mjs': isolatedBundle('sidecar'), '/app/dist/stdio-bridge.mjs': isolatedBundle('stdio-bridge') },
    path: '/nodejs/bin',
  };
  const serverImage: Image = { files: { '/app': server.dir }, path: o.path ? o.path(bin) : `${bin}:/usr/bin:/bin` };
  const running = await runPod(injected, { images: { [config.sidecar.image]: sidecarImage, [server.image]: serverImage }, secrets: { 'mcp-keys': { 'mcp-auth-key': `${API_KEY}\n` } } });
  return { pod: running, url: `http://127.0.0.1:${listenPort}/mcp`, headers: { 'X-API-Key': API_KEY }, injected, config };
}
