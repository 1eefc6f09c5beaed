/**
 * A listener that cannot bind is an operator's problem, not a bug: a port in use, an address this
 * host does not have, a privileged port, a host name that does not resolve. main.ts turns such a
 * failure into one line naming the setting and the address, and exit code 2 (as for a bad
 * setting), instead of a stack trace. Node's listen error says which address and port failed;
 * that tells the two listeners apart.
 */
import type { Config } from './config.ts';
import { ERR } from './errors.ts';
import { SETTINGS } from './settings.ts';

/** Why a bind failed, and whether the host or the port setting is the one to change. */
const CAUSES: Readonly<Record<string, { readonly setting: 'host' | 'port'; readonly text: string }>> = {
  EADDRINUSE: { setting: 'port', text: 'the port is already in use' },
  EACCES: { setting: 'port', text: 'permission denied (ports below net.ipv4.ip_unprivileged_port_start, usually 1024, need privileges)' },
  EPERM: { setting: 'port', text: 'operation not permitted' },
  EADDRNOTAVAIL: { setting: 'host', text: 'the address is not one of this host\'s addresses' },
  EAFNOSUPPORT: { setting: 'host', text: 'the address family is not supported on this host' },
  ENOTFOUND: { setting: 'host', text: 'the host name does not resolve' },
  EAI_AGAIN: { setting: 'host', text: 'the host name could not be resolved (temporary failure)' },
};

/** A listener that could not bind, with a stable code and a one-line message. */
export class ListenError extends Error {
  readonly code = ERR.LISTEN_FAILED;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'ListenError';
  }
}

type ListenConfig = Pick<Config, 'listenHost' | 'listenPort' | 'adminHost' | 'adminPort'>;
type NodeListenError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

const hostPort = (host: string, port: number): string => `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;

/**
 * The ListenError for a failure of `Sidecar.listen()`, or undefined when `err` is not a bind
 * failure this module knows (then it is a bug and keeps its stack trace).
 */
export function listenFailure(err: unknown, config: ListenConfig): ListenError | undefined {
  const e = err as NodeListenError;
  const cause = typeof e?.code === 'string' ? CAUSES[e.code] : undefined;
  if (cause === undefined || (e.syscall !== 'listen' && e.syscall !== 'getaddrinfo' && e.syscall !== 'bind')) return undefined;
  const listeners = [
    { host: config.listenHost, port: config.listenPort, hostEnv: SETTINGS.listenHost.env, portEnv: SETTINGS.listenPort.env },
    { host: config.adminHost, port: config.adminPort, hostEnv: SETTINGS.adminHost.env, portEnv: SETTINGS.adminPort.env },
  ];
  // The public listener binds first, so on a tie (same host and port 0) it is the one that failed.
  // Node reports a resolved address for a host name, so a name matches any address.
  const sameHost = (host: string): boolean => e.address === undefined || e.address === host || !/^[\d.:]+$/.test(host);
  const failed =
    e.syscall === 'getaddrinfo'
      ? listeners.find((l) => l.host === e.hostname)
      : (listeners.find((l) => (e.port ?? 0) === l.port && sameHost(l.host)) ?? listeners.find((l) => (e.port ?? 0) === l.port));
  if (failed === undefined) return undefined;
  const setting = cause.setting === 'host' ? failed.hostEnv : failed.portEnv;
  return new ListenError(`${setting}: cannot listen on ${hostPort(failed.host, failed.port)}: ${cause.text} (${e.code})`, { cause: err });
}
