/**
 * The request pipeline, assembled once from the configuration:
 *
 *   CORS -> metadata (RFC 9728, no auth) -> exempt? -> per-IP limit -> origin -> authenticate
 *   -> per-identity limit | read body | -> message (parse once, era, mirrored headers) -> request DLP
 *   -> tool policy -> per-tool limit -> stream cap -> (forward) -> response stages: stream slot,
 *   tools/list filter, then DLP redaction
 *
 * Exempt requests go straight to the body, and of the later stages only response DLP applies.
 *
 * `run` covers everything up to the body, `runAfterBody` what needs the body. Each stage is built by
 * its own module from the config; stages that are off are simply not in the list.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Config } from './config.ts';
import { andThen, type Reply, type RequestContext, type Stage } from './context.ts';
import { ERR } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { createExemptMatcher } from './paths.ts';
import { createKeyStore, type KeyStore } from './auth/api-key.ts';
import { createAuthStage } from './auth/stage.ts';
import { createJwtAuthenticator } from './auth/jwt.ts';
import { metadataReply } from './auth/metadata.ts';
import { unauthorizedReply } from './auth/challenge.ts';
import { createRateLimiter } from './limit/limiter.ts';
import { createSharedLimitStore } from './limit/shared-store.ts';
import { clientIp, parseTrustedProxies } from './limit/client-ip.ts';
import { parseIp } from './limit/ip.ts';
import { createToolPolicyStage } from './policy/stage.ts';
import { createMessageStage } from './mcp/stage.ts';
import { createDlpStages } from './dlp/stage.ts';
import { createCorsStage } from './cors.ts';
import { withApiKeyRefusals } from './auth/api-key-refusal.ts';

export interface PipelineDeps {
  readonly logger: Logger;
  readonly audit: Logger;
  readonly metrics: Metrics;
  /** A test clock (ms) for every stage; by default each stage uses its own (wall or monotonic). */
  readonly now?: () => number;
}

export interface Pipeline {
  /** Stages before the body is read. A Reply ends the request. Synchronous when every stage is. */
  run(ctx: RequestContext): Reply | undefined | Promise<Reply | undefined>;
  /** Stages that need the body. */
  runAfterBody(ctx: RequestContext): Reply | undefined | Promise<Reply | undefined>;
  /** The client's IP: the socket peer, or from X-Forwarded-For when the peer is a trusted proxy. */
  clientIp(req: IncomingMessage): string;
  /** X-Forwarded-For for the upstream: a trusted proxy's chain plus its address, else the peer. */
  forwardedFor(req: IncomingMessage): string;
  /** `http`, or what a trusted proxy says the client used. */
  forwardedProto(req: IncomingMessage): string;
  close(): void;
}

const ORIGIN_FORBIDDEN: Reply = Object.freeze({ status: 403, code: ERR.ORIGIN_FORBIDDEN, body: Object.freeze({ error: 'Forbidden', message: 'Origin not allowed' }) });

/** The stages in order, until one replies; synchronous up to the first stage that returns a promise. */
function runStages(stages: readonly Stage[], ctx: RequestContext, from = 0): Reply | undefined | Promise<Reply | undefined> {
  for (let i = from; i < stages.length; i++) {
    const r = stages[i]!(ctx);
    if (r instanceof Promise) return andThen(r, (v) => (v !== undefined ? v : runStages(stages, ctx, i + 1)));
    if (r !== undefined) return r;
  }
  return undefined;
}

export function buildPipeline(config: Config, deps: PipelineDeps): Pipeline {
  const log = deps.logger;
  const isExempt = createExemptMatcher(config.exemptPaths);
  const allowedOrigins = new Set(config.allowedOrigins);

  let keys: KeyStore | undefined;
  if (config.apiKeyEnabled) {
    keys = createKeyStore({
      keys: config.apiKeys ?? [],
      file: config.apiKeyFile,
      onReload: (count) => log.info({ count }, 'API key file loaded'),
      onReloadError: (message) => log.error({ message }, 'API key file not used'),
    });
  }
  const jwt = config.jwtEnabled ? createJwtAuthenticator(config, { now: deps.now, onFailure: (reason) => deps.metrics.jwtFailures.inc({ reason }) }) : undefined;
  if (jwt) {
    // Fetch discovery and keys now so the first request does not wait; failure is retried later.
    void jwt.warm().then((ok) => (ok ? log.info('JWT keys loaded') : log.warn('JWT keys not loaded yet; requests with tokens are refused until the IdP answers')));
  }
  const auth = createAuthStage(config, { keys, bearer: jwt, challenge: jwt ? unauthorizedReply(config, { tokenPresented: false }) : undefined });

  // MCP_AUTH_RATE_LIMIT_STORE=redis: buckets shared by every replica (undefined: per-sidecar memory).
  const shared = createSharedLimitStore(config, { logger: log, metrics: deps.metrics, readFile: (p) => readFileSync(p, 'utf8') });
  const limits = createRateLimiter(config, { ...(deps.now ? { now: deps.now } : {}), ...(shared ? { store: shared.store } : {}), onLimited: (limit) => deps.metrics.rateLimited.inc({ limit }) });
  const trusted = parseTrustedProxies(config.trustedProxies);
  const peerTrusted = (req: IncomingMessage): boolean => {
    if (trusted.size === 0) return false;
    const ip = parseIp(req.socket.remoteAddress ?? '');
    return ip !== undefined && trusted.contains(ip);
  };

  // The peer's address in canonical form, once per connection (a keep-alive connection carries
  // many requests, and the address cannot change under it).
  const peers = new WeakMap<object, string>();
  const peerOf = (req: IncomingMessage): string => {
    let peer = peers.get(req.socket);
    if (peer === undefined) {
      peer = clientIp(req.socket.remoteAddress ?? '', undefined, trusted);
      peers.set(req.socket, peer);
    }
    return peer;
  };

  const present = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);
  // CORS before everything else: preflights are answered there, and every response to an allowed
  // origin carries the headers (the metadata document, exempt paths and every refusal included).
  const cors = createCorsStage(config);
  const before: Stage[] = present([
    limits.ipStage,
    (ctx) => {
      const origin = ctx.headers.origin;
      // MCP Streamable HTTP transport: servers must validate Origin (DNS rebinding).
      if (origin !== undefined && !allowedOrigins.has(origin)) return ORIGIN_FORBIDDEN;
      return undefined;
    },
    withApiKeyRefusals(config, auth),
    limits.identityStage,
  ]);
  const onAudit = (record: object): void => deps.audit.info(record, 'audit');
  const message = createMessageStage({ onAudit });
  const policy = createToolPolicyStage(config, {
    onToolCall: (tool, decision) => deps.metrics.toolCalls.inc({ tool, decision }),
    onAudit,
  });
  const dlp = createDlpStages(config, { logger: log, metrics: deps.metrics });
  // The message stage first: the one parse of the body, its era, and its mirrored headers checked
  // before anything reads a method or a name. Request DLP next, so audit, policy and the upstream see
  // the same (redacted) arguments and headers; tool policy before the per-tool limit, so refused
  // calls spend no tokens; the stream cap once the body says whether this is a subscriptions/listen;
  // response DLP last, so it scans what the client will get after the tools/list filter.
  const after: Stage[] = present([message, dlp.request, policy, limits.toolStage, limits.streams?.stage, dlp.response]);
  // Exempt requests skip auth, limits and policy, but their responses are scanned like any other.
  const afterExempt: Stage[] = present([dlp.response]);

  return {
    run(ctx) {
      const preflight = cors?.(ctx);
      if (preflight) return preflight;
      // RFC 9728 protected-resource metadata: public, so clients can discover how to authenticate.
      if (jwt && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
        const meta = metadataReply(config, ctx.path);
        if (meta) return meta;
      }
      if (isExempt(ctx.method, ctx.path)) {
        ctx.exempt = true;
        ctx.logFields.exempt = true;
        return undefined;
      }
      return runStages(before, ctx);
    },
    runAfterBody(ctx) {
      return runStages(ctx.exempt ? afterExempt : after, ctx);
    },
    clientIp: (req) => (trusted.size === 0 ? peerOf(req) : clientIp(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trusted)),
    forwardedFor: (req) => {
      // As nginx's $proxy_add_x_forwarded_for: append the hop we saw (the peer), never a derived
      // address, and keep a chain only from a peer we trust.
      const peer = peerOf(req);
      const prior = req.headers['x-forwarded-for'];
      if (prior === undefined || !peerTrusted(req)) return peer;
      return `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}`;
    },
    forwardedProto: (req) => {
      const p = req.headers['x-forwarded-proto'];
      return peerTrusted(req) && (p === 'https' || p === 'http') ? p : 'http';
    },
    close() {
      keys?.close();
      jwt?.close();
      shared?.close();
    },
  };
}

