/**
 * `mcp-warden inject -f FILE|-`: the webhook's inject() on files, like `istioctl kube-inject`.
 * Takes Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and
 * CronJobs (multi-document YAML and `List`s too) and prints the injected objects as YAML. Other
 * kinds pass through unchanged. Exit codes: 0 done, 1 a pod was rejected, 2 usage or config error.
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

export const USAGE = `usage: mcp-warden inject -f FILE|- [--config webhook-config.yaml] [--namespace NS] [--native-sidecar true|false]

Injects the mcp-warden sidecar into Pods and workload pod templates annotated
mcp-warden.dev/inject: "true", and prints the result as YAML ("-f -" reads stdin).`;

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
    if (args.config) config = parseWebhookConfigText(io.readFile(args.config), args.config);
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

// As the bundle's entry (dist/cli.mjs) this module runs itself; bin/mcp-warden.mjs imports it and calls runCli.
if (import.meta.main) {
  runCli(process.argv.slice(2), processIo).then((code) => (process.exitCode = code));
}
