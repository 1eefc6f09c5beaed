/**
 * `sidecar.env` in the chart's values.schema.json is generated from the sidecar's settings table
 * (scripts/values-schema.ts). These tests keep the file in step with the table and check, with the
 * real helm binary, that a typo or a bad value fails `helm template` and `helm lint` naming the
 * key, and that the schema never accepts a value the sidecar's own parser would refuse.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_FILE, withEnvSchema } from '../../scripts/values-schema.ts';
import { SETTINGS, type Setting } from '../../sidecar/settings.ts';
import { WEBHOOK_OWNED_ENV, parseWebhookConfig } from '../../webhook/config.ts';
import { CHART, NEW_CLUSTER, RELEASE_NAMESPACE, get, helm, pool, templateArgs } from './render.ts';

const tmp = mkdtempSync(join(tmpdir(), 'warden-values-schema-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ALL = Object.values(SETTINGS) as Setting<unknown>[];
/** The variables a cluster admin may set in sidecar.env. */
const SETTABLE = ALL.filter((s) => !s.secret && !WEBHOOK_OWNED_ENV.has(s.env));

/** The `sidecar.env` paths helm's schema errors name (`- at '/sidecar/env/NAME': ...`). */
function rejectedKeys(stderr: string): Set<string> {
  return new Set([...stderr.matchAll(/at '\/sidecar\/env\/([A-Z0-9_]+)'/g)].map((m) => m[1] as string));
}

function valuesFile(name: string, env: Record<string, unknown>): string {
  const path = join(tmp, `${name}.json`);
  // JSON is YAML: the value types (integer, boolean, string) reach helm exactly as written.
  writeFileSync(path, JSON.stringify({ sidecar: { env } }));
  return path;
}

describe('values.schema.json sidecar.env', () => {
  test('is in step with sidecar/settings.ts (npm run generate rewrites it)', () => {
    const text = readFileSync(SCHEMA_FILE, 'utf8');
    assert.equal(text, withEnvSchema(text), 'values.schema.json is stale: run `npm run generate`');
    const env = get(JSON.parse(text), 'properties.sidecar.properties.env');
    assert.equal(get(env, 'additionalProperties'), false, 'unknown names are refused');
    const names = Object.keys(get(env, 'properties') as object).sort();
    assert.deepEqual(names, [...new Set([...ALL.map((s) => s.env), ...WEBHOOK_OWNED_ENV])].sort(), 'every table variable, and only those');
  });

  test('a schema generated before a setting existed, or with an old bound, is detected as stale', () => {
    const text = readFileSync(SCHEMA_FILE, 'utf8');
    const schema = JSON.parse(text);
    const env = schema.properties.sidecar.properties.env;
    delete env.properties.MCP_AUTH_DLP_REQUESTS;
    const missing = `${JSON.stringify(schema, null, 2)}\n`;
    assert.notEqual(withEnvSchema(missing), missing);
    env.properties.MCP_AUTH_JWT_CLOCK_SKEW_SECONDS.maximum = 900;
    const loose = `${JSON.stringify(schema, null, 2)}\n`;
    assert.notEqual(withEnvSchema(loose), loose);
    assert.equal(withEnvSchema(loose), text, 'regenerating restores the committed file');
  });

  test('a typo, a bad value, a secret and a webhook-owned variable fail helm template, naming each key', async () => {
    const file = valuesFile('bad', {
      MCP_AUTH_LOG_LEVL: 'debug',
      MCP_AUTH_DLP_MODE: 'loud',
      MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '0',
      MCP_AUTH_JWT_CLOCK_SKEW_SECONDS: 601,
      MCP_AUTH_FORWARD_IDENTITY: 'maybe',
      MCP_AUTH_JWT_SECRET: 'x'.repeat(40),
      MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1',
      MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: '/etc/redis/ca.pem',
    });
    const r = await helm(templateArgs(file, NEW_CLUSTER));
    assert.notEqual(r.code, 0, 'helm template accepted bad sidecar.env values');
    assert.match(r.stderr, /values don't meet the specifications of the schema/);
    assert.match(r.stderr, /at '\/sidecar\/env': additional properties 'MCP_AUTH_LOG_LEVL' not allowed/);
    assert.match(r.stderr, /at '\/sidecar\/env\/MCP_AUTH_DLP_MODE': value must be one of 'redact', 'block', 'off'/);
    assert.match(r.stderr, /at '\/sidecar\/env\/MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE': '0' does not match pattern/);
    assert.match(r.stderr, /at '\/sidecar\/env\/MCP_AUTH_JWT_CLOCK_SKEW_SECONDS': maximum: got 601, want 600/);
    assert.match(r.stderr, /at '\/sidecar\/env\/MCP_AUTH_FORWARD_IDENTITY': value must be one of true, false/);
    assert.match(r.stderr, /MCP_AUTH_JWT_SECRET': value must be 'not allowed here: a secret value/);
    assert.match(r.stderr, /MCP_AUTH_UPSTREAM_URL': value must be 'not allowed here: the webhook sets this variable/);
    assert.doesNotMatch(r.stderr, /x{40}/, 'the secret value is not echoed');
    // The webhook never sets the CA file: its reason is its own, the same the webhook gives at start.
    const ca = /MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE': value must be 'not allowed here: ([^']+)'/.exec(r.stderr)?.[1];
    assert.ok(ca?.startsWith('injected pods hold no file at a path named here'), r.stderr);
    assert.throws(() => parseWebhookConfig({ sidecar: { env: { MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: '/etc/redis/ca.pem' } } }), (err: Error) => err.message.includes(ca!));
  });

  test('helm lint fails on the same values, naming the key', async () => {
    const file = valuesFile('lint', { MCP_AUTH_DLP_MODES: 'block', MCP_AUTH_MAX_BODY_BYTES: '-1' });
    const r = await helm(['lint', CHART, '--namespace', RELEASE_NAMESPACE, '--values', file]);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /additional properties 'MCP_AUTH_DLP_MODES' not allowed/);
    assert.match(out, /at '\/sidecar\/env\/MCP_AUTH_MAX_BODY_BYTES': '-1' does not match pattern/);
  });

  test('integers and booleans may be YAML scalars (as --set makes them) or strings', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.env.MCP_AUTH_RATE_LIMIT_BURST_SIZE=50', '--set', 'sidecar.env.MCP_AUTH_DLP_REQUESTS=true', '--set-string', 'sidecar.env.MCP_AUTH_JWT_CLOCK_SKEW_SECONDS=30']));
    assert.equal(r.code, 0, r.stderr);
  });

  test('what the schema accepts the sidecar accepts; canonical values are accepted (real helm, every settable variable)', async () => {
    interface Candidate {
      value: unknown;
      /** The schema must accept it (a value the sidecar itself would print). */
      canonical: boolean;
    }
    const candidates = new Map<string, Candidate[]>();
    for (const s of SETTABLE) {
      const c: Candidate[] = [];
      const sh = s.shape;
      if (sh.kind === 'int' || sh.kind === 'port') {
        const [min, max] = sh.kind === 'int' ? [sh.min, sh.max] : [0, 65535];
        const mid = Math.floor((min + max) / 2);
        c.push({ value: min, canonical: true }, { value: String(max), canonical: true }, { value: String(mid), canonical: true }, { value: mid, canonical: true });
        c.push({ value: min - 1, canonical: false }, { value: String(max + 1), canonical: false }, { value: `0${mid}`, canonical: false }, { value: `${mid}.5`, canonical: false }, { value: mid + 0.5, canonical: false }, { value: 'ten', canonical: false }, { value: '', canonical: false }, { value: true, canonical: false });
      } else if (sh.kind === 'bool') {
        c.push({ value: true, canonical: true }, { value: 'false', canonical: true }, { value: 'TRUE', canonical: false }, { value: 'maybe', canonical: false }, { value: '', canonical: false }, { value: 2, canonical: false });
      } else if (sh.kind === 'enum') {
        c.push(...sh.values.map((v) => ({ value: v, canonical: true })), { value: sh.values[0]!.toUpperCase(), canonical: false }, { value: 'nope', canonical: false }, { value: '', canonical: false }, { value: 1, canonical: false });
      } else {
        // URLs, lists and patterned text: the webhook checks them at start; the schema checks the type.
        const emptyOk = sh.kind === 'list' && !sh.nonEmpty;
        if (s.default !== undefined) c.push({ value: s.format(s.default), canonical: s.format(s.default) !== '' || emptyOk });
        c.push({ value: '', canonical: emptyOk }, { value: ' \t', canonical: emptyOk }, { value: 12, canonical: false }, { value: [], canonical: false }, { value: { a: 1 }, canonical: false });
        // A list of nothing but separators; for URLs and text, what lies beyond "something that is
        // not white space" (a pattern, a URL) is checked by the webhook at start, not here.
        if (sh.kind === 'list') c.push({ value: ' , ', canonical: emptyOk });
      }
      candidates.set(s.env, c);
    }
    const rounds = Math.max(...[...candidates.values()].map((c) => c.length));
    const results = await pool(Array.from({ length: rounds }, (_, i) => i), 3, async (i) => {
      const env: Record<string, unknown> = {};
      for (const [name, c] of candidates) if (c[i] !== undefined) env[name] = c[i]!.value;
      const r = await helm(templateArgs(valuesFile(`round-${i}`, env), NEW_CLUSTER));
      const rejected = rejectedKeys(r.stderr);
      if (r.code !== 0 && rejected.size === 0) throw new Error(`round ${i}: helm failed without a sidecar.env error: ${r.stderr}`);
      return { i, rejected };
    });
    const wrong: string[] = [];
    let accepted = 0;
    let refusedCount = 0;
    for (const { i, rejected } of results) {
      for (const s of SETTABLE) {
        const cand = candidates.get(s.env)![i];
        if (cand === undefined) continue;
        const schemaOk = !rejected.has(s.env);
        const parserOk = s.parse(cand.value).ok;
        if (schemaOk) accepted++;
        else refusedCount++;
        const shown = `${s.env}=${JSON.stringify(cand.value)}`;
        if (schemaOk && !parserOk) wrong.push(`${shown}: the schema accepts what the sidecar refuses`);
        if (cand.canonical && !schemaOk) wrong.push(`${shown}: the schema refuses a canonical value`);
        if (cand.canonical && !parserOk) wrong.push(`${shown}: not a valid candidate (the parser refuses it)`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(accepted > SETTABLE.length && refusedCount > SETTABLE.length, `accepted ${accepted}, refused ${refusedCount}`);
  });
});
