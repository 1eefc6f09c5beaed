/**
 * A real Prometheus (Debian's package, 2.42) for a test: its own config and TSDB in a temporary
 * folder, listening on loopback, queried through its HTTP API. Installed by ensureDebianPackage
 * when missing; it starts no service of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureDebianPackage } from './debian.ts';
import { freePort, stopChild, waitForPort } from './ports.ts';
import { until } from './wait.ts';

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

export interface Prometheus {
  readonly url: string;
  /** Where the config's relative files (rules, CA) go. */
  readonly dir: string;
  /** An instant query; rejects when Prometheus reports an error (bad PromQL, unknown function). */
  query(expr: string): Promise<PromSample[]>;
  /** GET /api/v1/<path> and return `data`. */
  api(path: string): Promise<unknown>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Start Prometheus with `config` (the prometheus.yml object); `files` are written beside it first
 * (rule files, CA certificates) so the config can name them relatively.
 */
export async function startPrometheus(config: Record<string, unknown>, files: Record<string, string> = {}): Promise<Prometheus> {
  const bin = ensureDebianPackage('prometheus', 'prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'mcp-warden-prom-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, 30_000);
    await until(() => fetch(`${url}/-/ready`).then((r) => r.ok, () => false), 'prometheus /-/ready', 30_000);
  } catch (err) {
    await stop();
    throw new Error(`prometheus did not start: ${(err as Error).message}\n${out}`, { cause: err });
  }
  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.errorType}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    dir,
    api,
    async query(expr) {
      const data = (await api(`query?query=${encodeURIComponent(expr)}`)) as { resultType: string; result: unknown };
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      return data.result as PromSample[];
    },
    output: () => out,
    stop,
  };
}
