/**
 * The DLP stages of the request pipeline: redaction of request bodies (MCP_AUTH_DLP_REQUESTS) and
 * a response transform on every forwarded response (MCP_AUTH_DLP_MODE). Matches are counted by rule
 * and direction and logged by rule name, never by the matched text.
 *
 * Request scanning covers the headers that mirror the body (MCP 2026-07-28: MCP-Protocol-Version,
 * Mcp-Method, Mcp-Name, Mcp-Param-*) as well as the body, and keeps the two consistent: when the
 * body is redacted, the mirrored headers are rewritten to the new body's values (mcp/remirror.ts)
 * and checked against it again, so the call still works and the secret reaches the server in no
 * header and no body. When that cannot be done, or a header carries a secret its body value does not
 * show (decoded from Base64 first), the request is refused with 400 naming the header: never sent.
 */
import type { Config } from '../config.ts';
import type { MessageRead, Reply, RequestContext, Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { NAME_HEADER, PARAM_PREFIX, VERSION_HEADER, checkMirroredHeaders, headerLabel, decodeMirrored, isMirroredHeader, mirroredHeaders } from '../mcp/mirrored-headers.ts';
import { remirror } from '../mcp/remirror.ts';
import { readMessage } from '../mcp/stage.ts';
import { createRedactor, type Redactor } from './redactor.ts';
import { redactRequestBody } from './request.ts';
import { createDlpTransform } from './transform.ts';
import { hasBody } from '../proxy/media-type.ts';

const refused = (message: string): Reply => ({ status: 400, code: ERR.DLP_BLOCKED, body: { error: 'Bad Request', message } });

/**
 * The mirrored headers as they will be forwarded: the request's, with this request's rewrites
 * applied; undefined when there are none (a 2025 request). Only these are ever read here.
 */
function forwardedMirrored(ctx: RequestContext): RequestContext['headers'] | undefined {
  let out: RequestContext['headers'] | undefined;
  for (const name in ctx.headers) {
    const value = ctx.headers[name];
    if (value !== undefined && isMirroredHeader(name) && !ctx.dropHeaders.has(name)) (out ??= {})[name] = value;
  }
  for (const name in ctx.addHeaders) if (isMirroredHeader(name)) (out ??= {})[name] = ctx.addHeaders[name];
  return out;
}

/**
 * Rules matching the mirrored headers' values (decoded), per header; counted by `onMatch`. The
 * version header is protocol, like the `_meta` version it equals (mcp/opaque-fields.ts).
 */
function scanMirrored(redactor: Redactor, headers: RequestContext['headers'], onMatch: (rule: string) => void): { header: string; rules: string[] } | undefined {
  for (const [name, value] of mirroredHeaders(headers)) {
    if (name === VERSION_HEADER) continue;
    const text = name === NAME_HEADER || name.startsWith(PARAM_PREFIX) ? (decodeMirrored(value) ?? value) : value;
    const latin = Buffer.from(text, 'utf8').toString('latin1');
    if (!redactor.mayMatch(latin, false)) continue;
    const r = redactor.redactLatin1(latin, false, onMatch);
    if (r.matches.length > 0) return { header: name, rules: [...new Set(r.matches)] };
  }
  return undefined;
}

/** DLP stages: redaction of request bodies (MCP_AUTH_DLP_REQUESTS) and of every response. */
export function createDlpStages(config: Config, deps: { logger: Logger; metrics: Metrics }): { request?: Stage; response?: Stage } {
  if (config.dlpMode === 'off' && !config.dlpRequests) return {};
  const log = deps.logger;
  const redactor = createRedactor({ patterns: config.sections['dlp.patterns'] });
  const counted = (direction: 'request' | 'response') => (rule: string) => {
    deps.metrics.redactions.inc({ rule, direction });
    // The rule's name only: never the matched text.
    log.info({ rule, direction, mode: config.dlpMode }, 'dlp match');
  };
  const stages: { request?: Stage; response?: Stage } = {};
  if (config.dlpMode !== 'off') {
    const transform = createDlpTransform({ redactor, mode: config.dlpMode, onMatch: counted('response') });
    stages.response = (ctx) => {
      ctx.responseStages.push(transform);
      return undefined;
    };
  }
  if (config.dlpRequests) {
    const onMatch = counted('request');
    stages.request = (ctx) => {
      // A body the scanner cannot read must not pass unscanned: compressed, or not JSON (only JSON
      // bodies are read; MCP's JSON-RPC always is).
      const encoding = ctx.headers['content-encoding'];
      if ((encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') || (ctx.body === undefined && hasBody(ctx.headers))) {
        return { status: 415, code: ERR.DLP_BLOCKED, body: { error: 'Unsupported Media Type', message: 'With request scanning on, request bodies must be uncompressed JSON' }, close: true };
      }
      if (ctx.body === undefined) return undefined;
      const before = ctx.message?.ok === true ? ctx.message.message : undefined;
      const r = redactRequestBody(redactor, ctx.body, { jsonRpc: before !== undefined });
      let reread: Extract<MessageRead, { ok: true }> | undefined;
      if (r.matches.length > 0) {
        for (const rule of r.matches) onMatch(rule);
        if (config.dlpMode === 'block') return refused(`Request blocked by DLP rule(s): ${[...new Set(r.matches)].join(', ')}`);
        ctx.body = r.body;
        if (before !== undefined) {
          const read = readMessage(r.body, ctx.headers);
          if (!read.ok) return refused('Request blocked: the redacted body is no longer a JSON-RPC message');
          const next = remirror(before, read.message, ctx.headers);
          if (!next.ok) return refused(`Request blocked: the ${headerLabel(next.header)} header cannot follow the redacted body (${next.reason})`);
          for (const [name, value] of Object.entries(next.set)) {
            ctx.dropHeaders.add(name);
            ctx.addHeaders[name] = value;
          }
          reread = read;
        }
      }
      const mirrored = forwardedMirrored(ctx);
      if (reread !== undefined) {
        const mismatch = checkMirroredHeaders(reread.message, mirrored ?? {});
        if (mismatch !== undefined) return refused(`Request blocked: after redaction the headers disagree with the body (${mismatch.reason})`);
        // The one view every later stage reads follows the body the upstream will get.
        ctx.message = reread;
        ctx.rpc = reread.message.calls;
      }
      // What a header still holds after that is a secret the body did not show: never sent.
      const inHeader = mirrored === undefined ? undefined : scanMirrored(redactor, mirrored, onMatch);
      if (inHeader !== undefined) {
        return refused(`Request blocked by DLP rule(s) ${inHeader.rules.join(', ')} in the ${headerLabel(inHeader.header)} header, which its body value does not carry`);
      }
      return undefined;
    };
  }
  return stages;
}
