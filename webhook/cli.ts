/**
 * `mcp-warden inject -f FILE|-`: the webhook's inject() on files, like `istioctl kube-inject`.
 * Takes Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
 * CronJobs (multi-document YAML and `List`s too) and prints the injected objects as YAML. Other
 * kinds pass through unchanged. Exit codes: 0 done, 1 a pod was rejected, 2 usage or config error.
 *
 * Three entries run it: bin/mcp-warden.mjs (a checkout), webhook/cli-main.ts (dist/cli.mjs, one
 * file for Node 24) and webhook/main.ts when given arguments (the webhook image:
 * `docker run -i IMAGE inject -f -`).
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { ConfigError } from '../sidecar/errors.ts';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfigText, type WebhookConfig } from './config.ts';
import { quote } from './errors.ts';
import { describeSkip } from './inject/decide.ts';
import { inject } from './inject/inject.ts';
import { podOf } from './inject/workload.ts';

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly readStdin: () => Promise<string>;
  readonly readFile: (path: string) => string;
}

export const USAGE = `usage: mcp-warden inject -f FILE|- [--config FILE] [--namespace NS] [--native-sidecar true|false]

Injects the mcp-warden sidecar into Pods and workload pod templates annotated
mcp-warden.dev/inject: "true", and prints the result as YAML ("-f -" reads stdin).
--config takes the webhook's config.yaml, or the chart's rendered manifests
(helm template ... charts/mcp-warden), whose ConfigMap holds it.`;

/** The Node.js major version the CLI is built and tested for (package.json engines). */
export const MIN_NODE_MAJOR = 24;

/** An error line when `version` (process.version) is older than the CLI supports, else undefined. */
export function nodeTooOld(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `mcp-warden: needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${version}`;
}

/** Labels of the chart's ConfigMap that holds the webhook's config.yaml. */
const CHART_CONFIGMAP_LABELS = { 'app.kubernetes.io/name': 'mcp-warden', 'app.kubernetes.io/component': 'webhook' } as const;

/**
 * The webhook config text in a --config file: the file itself, or, when it is a stream of
 * Kubernetes objects (the chart rendered by `helm template`), the `config.yaml` of the chart's one
 * ConfigMap. Throws a ConfigError naming the file when the stream holds none or several.
 */
export function webhookConfigText(text: string, source: string): string {
  const docs = parseAllDocuments(text);
  const objects = (Array.isArray(docs) ? docs : [docs]).filter((d) => d.errors.length === 0).map((d) => d.toJS() as unknown).filter((o) => o !== null && typeof o === 'object');
  const kinds = objects.filter((o) => typeof (o as { kind?: unknown }).kind === 'string');
  if (kinds.length === 0) return text;
  const found = kinds.filter((o) => {
    const m = o as { kind: string; metadata?: { labels?: Record<string, string> }; data?: Record<string, unknown> };
    const labels = m.metadata?.labels ?? {};
    return m.kind === 'ConfigMap' && typeof m.data?.['config.yaml'] === 'string' && Object.entries(CHART_CONFIGMAP_LABELS).every(([k, v]) => labels[k] === v);
  });
  if (found.length !== 1) {
    throw new ConfigError([{ setting: source, value: `${kinds.length} Kubernetes objects, ${found.length} of them the chart's ConfigMap`, expected: "a webhook config.yaml, or manifests holding exactly one mcp-warden ConfigMap (app.kubernetes.io/component: webhook) with data.config.yaml" }]);
  }
  return String((found[0] as { data: Record<string, unknown> }).data['config.yaml']);
}

interface Args {
  file: string;
  config: string | undefined;
  namespace: string | undefined;
  native: boolean | undefined;
}

function parseArgs(argv: readonly string[]): Args | string {
  if (argv[0] !== 'inject') return argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' ? USAGE : `unknown command ${JSON.stringify(argv[0])}\n${USAGE}`;
  const a: Args = { file: '', config: undefined, namespace: undefined, native: undefined };
  for (let i = 1; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '-f':
      case '--filename':
        a.file = value() ?? '';
        break;
      case '--config':
        a.config = value();
        break;
      case '-n':
      case '--namespace':
        a.namespace = value();
        break;
      case '--native-sidecar': {
        const v = value();
        if (v !== 'true' && v !== 'false') return `--native-sidecar: got ${JSON.stringify(v ?? '')}; expected "true" or "false"`;
        a.native = v === 'true';
        break;
      }
      default:
        return `unknown flag ${JSON.stringify(flag)}\n${USAGE}`;
    }
  }
  if (!a.file) return `-f FILE (or -f - for stdin) is required\n${USAGE}`;
  return a;
}

/** Run the CLI; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    (args === USAGE ? io.stdout : io.stderr)(`${args}\n`);
    return args === USAGE ? 0 : 2;
  }
  let config: WebhookConfig = DEFAULT_WEBHOOK_CONFIG;
  let text: string;
  try {
    if (args.config) config = parseWebhookConfigText(webhookConfigText(io.readFile(args.config), args.config), args.config);
    text = args.file === '-' ? await io.readStdin() : io.readFile(args.file);
  } catch (err) {
    io.stderr(`${err instanceof ConfigError ? err.message : `mcp-warden: ${(err as Error).message}`}\n`);
    return 2;
  }
  // Outside a cluster there is no version to read: native sidecars unless told otherwise or
  // configured off (every supported Kubernetes release has them).
  const native = args.native ?? config.nativeSidecar !== 'false';
  const docs = parseAllDocuments(text);
  const out: string[] = [];
  let failed = false;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      io.stderr(`mcp-warden: ${args.file}: ${doc.errors[0]!.message}\n`);
      return 2;
    }
    const obj = doc.toJS() as unknown;
    if (obj === null || obj === undefined) continue;
    const one = (o: unknown): unknown => {
      const found = podOf(o);
      if (!found) return o;
      const raw = (o as { metadata?: unknown }).metadata;
      const meta = (raw !== null && typeof raw === 'object' ? raw : {}) as { namespace?: unknown; name?: unknown };
      const label = `${String((o as { kind?: unknown }).kind)}/${typeof meta.name === 'string' ? meta.name : ''}`;
      if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
        failed = true;
        io.stderr(`${label}: mcp-warden: metadata.namespace: got ${quote(meta.namespace)}; expected a string\n`);
        return o;
      }
      const ns = meta.namespace ?? args.namespace ?? 'default';
      const r = inject(found.pod, ns, config, { nativeSidecar: native });
      if (r.action === 'rejected') {
        failed = true;
        // Field paths in the message are relative to the pod; say where the pod template sits.
        io.stderr(`${label}: ${found.where ? `in the pod template at ${found.where}: ` : ''}${r.error.message}\n`);
        return o;
      }
      for (const w of r.warnings) io.stderr(`${label}: warning: ${w}\n`);
      if (r.action === 'skipped') {
        io.stderr(`${label}: skipped: ${describeSkip(r.reason, ns)}\n`);
        return o;
      }
      return found.put(r.object);
    };
    const isList = (obj as { kind?: unknown }).kind === 'List' && Array.isArray((obj as { items?: unknown }).items);
    const result = isList ? { ...(obj as object), items: (obj as { items: unknown[] }).items.map(one) } : one(obj);
    // YAML 1.1 quoting: kubectl's parser reads 1.1, where a bare off, yes or on would become a boolean.
    out.push(stringify(result, { lineWidth: 0, version: '1.1' }));
  }
  if (failed) return 1;
  io.stdout(out.join('---\n'));
  return 0;
}

/** The process's own stdin, stdout and files. */
export const processIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  readFile: (p) => readFileSync(p, 'utf8'),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/**
 * The process entry's part: refuse an older Node.js with one line (exit 2) instead of running on
 * a runtime the CLI was never tested on, then run. Resolves to the exit code.
 */
export async function runCliProcess(argv: readonly string[], io: CliIo = processIo, version = process.version): Promise<number> {
  const old = nodeTooOld(version);
  if (old !== undefined) {
    io.stderr(`${old}\n`);
    return 2;
  }
  return runCli(argv, io);
}
