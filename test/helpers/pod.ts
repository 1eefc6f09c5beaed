/**
 * Runs a pod spec here, the way the kubelet would, closely enough to test what the webhook renders:
 * - every container's argv is built from `command`/`args` (or the image's entrypoint) and executed
 *   as given, so the wrapped MCP container really runs through /bin/sh;
 * - volumes are temporary directories (Secrets and ConfigMaps written from the data given), and a
 *   path the container would see is mapped to the host path behind it, in argv and in env values:
 *   volume mounts, the image's own files, and the termination message file;
 * - env is the rendered `value`s plus the image's PATH, nothing from this process;
 * - native sidecars start in order, each after its startup probe passes; then the containers;
 * - a container that exits is restarted (restartPolicy Always, with a short backoff), its exit and
 *   termination message recorded.
 * Ports are the rendered numbers: inject with a webhook configuration of free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Container, PodLike } from '../../webhook/inject/types.ts';
import { until } from './wait.ts';

/** What the harness knows about an image: its entrypoint, its files (container path -> host path) and its PATH. */
export interface Image {
  readonly entrypoint?: readonly string[];
  readonly files: Readonly<Record<string, string>>;
  readonly path: string;
}

export interface PodOptions {
  readonly images: Readonly<Record<string, Image>>;
  /** Secret name -> key -> value. */
  readonly secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Restart delay after an exit (the kubelet's backoff starts at 10 s; tests need less). */
  readonly restartDelayMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What the container wrote to its termination message path, if anything. */
  readonly message: string;
}

export interface RunningContainer {
  readonly name: string;
  readonly spec: Container;
  readonly pid: number | undefined;
  readonly exits: readonly Exit[];
  /** stdout and stderr so far, every run. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves at the next exit of the current process. */
  nextExit(): Promise<Exit>;
  /** Hold the next restart until resumeRestarts() (the kubelet's crash backoff, made explicit). */
  holdRestarts(): void;
  resumeRestarts(): void;
}

export interface RunningPod {
  container(name: string): RunningContainer;
  /** GET a container's probe (readinessProbe by default): true on 2xx/3xx. */
  probe(name: string, which?: 'readinessProbe' | 'livenessProbe' | 'startupProbe'): Promise<boolean>;
  /** Wait until every container with a readiness probe passes it. */
  waitReady(maxMs?: number): Promise<void>;
  /** Host directory behind a volume. */
  volumeDir(name: string): string;
  stop(): Promise<void>;
}

interface Slot {
  child: ChildProcess | undefined;
  exits: Exit[];
  out: string;
  stopped: boolean;
  waiters: Array<(e: Exit) => void>;
  termFile: string;
  held: boolean;
  pending: (() => void) | undefined;
}

/** Replace a container path by the host path behind it: exact match or a path below it. */
function mapPath(value: string, mounts: ReadonlyArray<readonly [string, string]>): string {
  for (const [from, to] of mounts) {
    if (value === from) return to;
    if (value.startsWith(`${from}/`)) return to + value.slice(from.length);
  }
  return value;
}

export async function runPod(pod: PodLike, opts: PodOptions): Promise<RunningPod> {
  const root = mkdtempSync(join(tmpdir(), 'warden-pod-'));
  const volumes = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(root, 'volumes', v.name);
    mkdirSync(dir, { recursive: true });
    const secret = v.secret as { secretName: string; items?: Array<{ key: string; path: string }> } | undefined;
    if (secret) {
      const data = opts.secrets?.[secret.secretName];
      if (!data) throw new Error(`pod harness: Secret ${secret.secretName} is not given`);
      const items = secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const { key, path } of items) {
        if (data[key] === undefined) throw new Error(`pod harness: Secret ${secret.secretName} has no key ${key}`);
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), data[key]!);
      }
    } else if (!('emptyDir' in v)) throw new Error(`pod harness: volume ${v.name}: only emptyDir and secret volumes are supported`);
    volumes.set(v.name, dir);
  }

  const slots = new Map<string, Slot>();
  const specs = new Map<string, Container>();
  const restartDelay = opts.restartDelayMs ?? 200;
  let stopping = false;

  function argvOf(c: Container): { argv: string[]; env: Record<string, string>; image: Image } {
    const image = opts.images[c.image ?? ''];
    if (!image) throw new Error(`pod harness: no local mapping for image ${c.image}`);
    const command = (c.command as string[] | undefined) ?? [...(image.entrypoint ?? [])];
    const argv = [...command, ...((c.args as string[] | undefined) ?? [])];
    if (argv.length === 0) throw new Error(`pod harness: container ${c.name} has nothing to run`);
    const slot = slots.get(c.name)!;
    const mounts: Array<readonly [string, string]> = [[typeof c.terminationMessagePath === 'string' ? c.terminationMessagePath : '/dev/termination-log', slot.termFile]];
    for (const m of (c.volumeMounts as Array<{ name: string; mountPath: string }> | undefined) ?? []) {
      const dir = volumes.get(m.name);
      if (!dir) throw new Error(`pod harness: ${c.name} mounts unknown volume ${m.name}`);
      mounts.push([m.mountPath, dir]);
    }
    mounts.push(...Object.entries(image.files));
    // Longest container path first, so /app/dist/x.mjs wins over /app.
    mounts.sort((a, b) => b[0].length - a[0].length);
    const env: Record<string, string> = { PATH: image.path };
    for (const e of (c.env as Array<{ name: string; value?: string }> | undefined) ?? []) {
      if (e.value === undefined) throw new Error(`pod harness: ${c.name} env ${e.name}: only plain values are supported`);
      env[e.name] = mapPath(e.value, mounts);
    }
    return { argv: argv.map((a) => mapPath(a, mounts)), env, image };
  }

  function start(c: Container): void {
    const slot = slots.get(c.name)!;
    if (stopping || slot.stopped) return;
    rmSync(slot.termFile, { force: true });
    const { argv, env } = argvOf(c);
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    slot.child = child;
    const keep = (d: Buffer) => {
      slot.out += d.toString();
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (err) => keep(Buffer.from(`pod harness: ${c.name}: ${err.message}\n`)));
    child.on('close', (code, signal) => {
      let message = '';
      try {
        message = readFileSync(slot.termFile, 'utf8');
      } catch {
        // nothing written
      }
      const exit = { code, signal, message };
      slot.exits.push(exit);
      slot.child = undefined;
      for (const w of slot.waiters.splice(0)) w(exit);
      if (stopping || slot.stopped || (pod.spec.restartPolicy ?? 'Always') !== 'Always') return;
      const restart = () => setTimeout(() => start(c), restartDelay).unref();
      if (slot.held) slot.pending = restart;
      else restart();
    });
  }

  async function probe(name: string, which: 'readinessProbe' | 'livenessProbe' | 'startupProbe' = 'readinessProbe'): Promise<boolean> {
    const p = specs.get(name)?.[which] as { httpGet?: { path?: string; port: number | string } } | undefined;
    if (!p?.httpGet) throw new Error(`pod harness: ${name} has no ${which} httpGet`);
    let port = p.httpGet.port;
    if (typeof port === 'string') port = (specs.get(name)!.ports ?? []).find((x) => x.name === port)?.containerPort ?? NaN;
    try {
      const r = await fetch(`http://127.0.0.1:${port}${p.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      return r.status >= 200 && r.status < 400;
    } catch {
      return false;
    }
  }

  /** Every container's last output, for a wait that timed out. */
  const outputs = () => [...slots].map(([n, s]) => `--- ${n}\n${s.out.slice(-2000)}`).join('\n');

  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  for (const c of all) {
    specs.set(c.name, c);
    slots.set(c.name, { child: undefined, exits: [], out: '', stopped: false, waiters: [], termFile: join(root, `termination-${c.name}`), held: false, pending: undefined });
  }
  const running: RunningPod = {
    container(name) {
      const slot = slots.get(name);
      if (!slot) throw new Error(`pod harness: no container ${name}`);
      return {
        name,
        spec: specs.get(name)!,
        get pid() {
          return slot.child?.pid;
        },
        get exits() {
          return slot.exits;
        },
        output: () => slot.out,
        kill: (signal) => void slot.child?.kill(signal),
        nextExit: () => new Promise<Exit>((resolve) => slot.waiters.push(resolve)),
        holdRestarts: () => void (slot.held = true),
        resumeRestarts() {
          slot.held = false;
          const go = slot.pending;
          slot.pending = undefined;
          go?.();
        },
      };
    },
    probe,
    async waitReady(maxMs = 20_000) {
      for (const c of all) if (c.readinessProbe) await until(() => probe(c.name), `${c.name} to be ready`, maxMs, outputs);
    },
    volumeDir(name) {
      const d = volumes.get(name);
      if (!d) throw new Error(`pod harness: no volume ${name}`);
      return d;
    },
    async stop() {
      stopping = true;
      const exits: Promise<unknown>[] = [];
      for (const s of slots.values()) {
        const child = s.child;
        if (!child) continue;
        exits.push(new Promise((r) => child.once('close', r)));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }
      await Promise.all(exits);
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    for (const c of pod.spec.initContainers ?? []) {
      start(c);
      if (c.restartPolicy === 'Always') {
        // A native sidecar: the next container starts once its startup probe passes.
        if (c.startupProbe) await until(() => probe(c.name, 'startupProbe'), `${c.name}'s startup probe`, 20_000, outputs);
      } else {
        const exit = await running.container(c.name).nextExit();
        if (exit.code !== 0) throw new Error(`pod harness: init container ${c.name} failed: ${JSON.stringify(exit)}`);
        slots.get(c.name)!.stopped = true;
      }
    }
    for (const c of pod.spec.containers) start(c);
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
