/**
 * Probes and lifecycle hooks that name the port the sidecar takes over must keep reaching the app
 * (a liveness probe through the sidecar would fail on auth and restart the app), so they follow the
 * rename. Port names in probes resolve within their own container only.
 */
import { PROBES, type Container, type Probe } from './types.ts';

/** Every handler in a container that may carry a named port, with a label for the status record. */
function handlers(c: Container): Array<[string, Probe]> {
  const out: Array<[string, Probe]> = [];
  for (const p of PROBES) {
    const probe = c[p];
    if (probe && typeof probe === 'object') out.push([p, probe]);
  }
  const lc = c.lifecycle as Record<string, Probe | undefined> | undefined;
  if (lc && typeof lc === 'object') {
    for (const h of ['postStart', 'preStop'] as const) {
      const handler = lc[h];
      if (handler && typeof handler === 'object') out.push([`lifecycle.${h}`, handler]);
    }
  }
  return out;
}

/** Point every handler of `c` that names port `from` at `to` instead; returns the handlers changed. Mutates `c`. */
export function renameProbePorts(c: Container, from: string, to: string): string[] {
  const changed: string[] = [];
  for (const [label, h] of handlers(c)) {
    let hit = false;
    if (h.httpGet && h.httpGet.port === from) {
      h.httpGet.port = to;
      hit = true;
    }
    if (h.tcpSocket && h.tcpSocket.port === from) {
      h.tcpSocket.port = to;
      hit = true;
    }
    if (hit) changed.push(label);
  }
  return changed;
}
