/**
 * The DLP stages of the request pipeline: redaction of request bodies (MCP_AUTH_DLP_REQUESTS) and
 * a response transform on every forwarded response (MCP_AUTH_DLP_MODE). Matches are counted by rule
 * and direction and logged by rule name, never by the matched text.
 */
import type { Config } from '../config.ts';
import type { Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { createRedactor } from './redactor.ts';
import { redactRequestBody } from './request.ts';
import { createDlpTransform } from './transform.ts';
import { hasBody } from '../proxy/media-type.ts';

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
    const transform = createDlpTransform({ redactor, mode: config.dlpMode, direction: 'response', onMatch: counted('response') });
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
      const r = redactRequestBody(redactor, ctx.body);
      if (r.matches.length === 0) return undefined;
      for (const rule of r.matches) onMatch(rule);
      if (config.dlpMode === 'block') {
        return { status: 400, code: ERR.DLP_BLOCKED, body: { error: 'Bad Request', message: `Request blocked by DLP rule(s): ${[...new Set(r.matches)].join(', ')}` } };
      }
      ctx.body = r.body;
      return undefined;
    };
  }
  return stages;
}
