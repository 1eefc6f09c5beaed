/**
 * Headless Chromium (Debian's package, installed by ensureDebianPackage when missing) driven over
 * the Chrome DevTools Protocol with Node's own WebSocket: open a page, run a script in it, get the
 * result. Enough for tests that need what only a browser does, such as enforcing CORS.
 * Flags as /work/.library notes for this machine kind: background networking off (the machine's
 * network is closed), no sandbox (root), a fresh profile per launch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage } from './debian.ts';
import { stopChild } from './ports.ts';
import { until } from './wait.ts';

export interface Browser {
  /** Open `pageUrl` in a new tab, wait for it to load, evaluate `expression` (awaited) and return its JSON value. */
  evaluate<T>(pageUrl: string, expression: string): Promise<T>;
  close(): Promise<void>;
}

interface CdpReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export async function launchChromium(): Promise<Browser> {
  const binary = ensureDebianPackage('/usr/bin/chromium', 'chromium');
  const profile = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
  const child: ChildProcess = spawn(binary, [...flags, `--user-data-dir=${profile}`, '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start within 30 s: ${err.slice(-500)}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err.slice(-500)}`)));
  });

  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot connect to ${wsUrl}`));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  ws.onmessage = (event) => {
    const msg = JSON.parse(String(event.data)) as CdpReply;
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result ?? {});
  };
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  return {
    async evaluate<T>(pageUrl: string, expression: string): Promise<T> {
      const { targetId } = (await send('Target.createTarget', { url: pageUrl })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      try {
        const run = async (expr: string): Promise<unknown> => {
          const r = (await send('Runtime.evaluate', { expression: expr, awaitPromise: true, returnByValue: true }, sessionId)) as { result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } };
          if (r.exceptionDetails) throw new Error(`page script failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
          return r.result.value;
        };
        // The new tab starts on about:blank, which is 'complete' before the navigation commits: wait
        // for the page itself.
        const loaded = `document.readyState === 'complete' && location.href === ${JSON.stringify(new URL(pageUrl).href)}`;
        await until(async () => (await run(loaded)) === true, `${pageUrl} to load`, 10_000);
        return (await run(expression)) as T;
      } finally {
        await send('Target.closeTarget', { targetId });
      }
    },
    async close() {
      ws.close();
      await stopChild(child);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
