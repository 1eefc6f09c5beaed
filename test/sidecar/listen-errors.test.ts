/**
 * A listener that cannot bind ends the real bundle with exit code 2 and one line naming the
 * setting and the address, never a stack trace: a port in use (either listener), an address this
 * host lacks, a host name that does not resolve, a privileged port without the privilege.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { isolatedBundle } from '../helpers/bundle.ts';
import { runCommand, type ProcessResult } from '../helpers/run-node.ts';

let bundle: string;
let busy: Server;
let busyPort: number;

before(async () => {
  bundle = isolatedBundle('sidecar');
  // Readable by the unprivileged user of the EACCES case (mkdtemp makes the folder 0700).
  chmodSync(dirname(bundle), 0o755);
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
after(() => busy.close());

/** Run the bundle; the child is killed after a generous bound, which the test then reports. */
function run(env: Record<string, string>, opts: { dropBindCapability?: boolean } = {}): Promise<ProcessResult> {
  // Root without the one capability that binds low ports (util-linux setpriv): running as another
  // user instead would also need that user to reach the node binary, which a private clone
  // (a 0700 temporary folder) does not allow.
  const [cmd, args] = opts.dropBindCapability ? ['setpriv', ['--bounding-set', '-net_bind_service', '--inh-caps', '-net_bind_service', process.execPath, bundle]] : [process.execPath, [bundle]];
  return runCommand(cmd, args, {
    env: { PATH: process.env.PATH, MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', MCP_AUTH_LISTEN_HOST: '127.0.0.1', MCP_AUTH_LISTEN_PORT: '0', MCP_AUTH_ADMIN_HOST: '127.0.0.1', MCP_AUTH_ADMIN_PORT: '0', ...env },
    replaceEnv: true,
    killAfterMs: 20_000,
  });
}

async function expectOneLine(env: Record<string, string>, line: RegExp, opts: { dropBindCapability?: boolean } = {}): Promise<void> {
  const r = await run(env, opts);
  assert.equal(r.killed, false, 'the process must end by itself');
  assert.equal(r.code, 2, `exit code 2; stderr: ${r.stderr}`);
  assert.match(r.stderr, line);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line, no stack trace:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.doesNotMatch(r.stdout, /sidecar started/);
}

test('the public port in use: MCP_AUTH_LISTEN_PORT and the address', async () => {
  await expectOneLine({ MCP_AUTH_LISTEN_PORT: String(busyPort) }, new RegExp(`^mcp-warden: MCP_AUTH_LISTEN_PORT: cannot listen on 127\\.0\\.0\\.1:${busyPort}: the port is already in use \\(EADDRINUSE\\)\\n$`));
});

test('the admin port in use: MCP_AUTH_ADMIN_PORT and the address', async () => {
  await expectOneLine({ MCP_AUTH_ADMIN_PORT: String(busyPort) }, new RegExp(`^mcp-warden: MCP_AUTH_ADMIN_PORT: cannot listen on 127\\.0\\.0\\.1:${busyPort}: the port is already in use \\(EADDRINUSE\\)\\n$`));
});

test('an admin address this host does not have: MCP_AUTH_ADMIN_HOST (EADDRNOTAVAIL)', async () => {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  await expectOneLine({ MCP_AUTH_ADMIN_HOST: '192.0.2.7', MCP_AUTH_ADMIN_PORT: '9901' }, /^mcp-warden: MCP_AUTH_ADMIN_HOST: cannot listen on 192\.0\.2\.7:9901: the address is not one of this host's addresses \(EADDRNOTAVAIL\)\n$/);
});

test('a public host name that does not resolve: MCP_AUTH_LISTEN_HOST', async () => {
  // .invalid never resolves (RFC 6761); without DNS at all the lookup fails as EAI_AGAIN instead.
  await expectOneLine({ MCP_AUTH_LISTEN_HOST: 'no-such-host.invalid', MCP_AUTH_LISTEN_PORT: '8080' }, /^mcp-warden: MCP_AUTH_LISTEN_HOST: cannot listen on no-such-host\.invalid:8080: the host name (does not resolve \(ENOTFOUND\)|could not be resolved \(temporary failure\) \(EAI_AGAIN\))\n$/);
});

test('a privileged port without the privilege: MCP_AUTH_LISTEN_PORT (EACCES)', async () => {
  // As root (CI and these machines), without CAP_NET_BIND_SERVICE; otherwise this user is unprivileged.
  await expectOneLine({ MCP_AUTH_LISTEN_PORT: '1' }, /^mcp-warden: MCP_AUTH_LISTEN_PORT: cannot listen on 127\.0\.0\.1:1: permission denied .* \(EACCES\)\n$/, { dropBindCapability: process.getuid?.() === 0 });
});
