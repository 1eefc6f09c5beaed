import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { analyzeRegex } from '../../../sidecar/dlp/regex-safety.ts';
import { DEFAULT_RULES } from '../../../sidecar/dlp/rules.ts';
import { SECRET_ARBS } from './secrets.ts';

const redactor = createRedactor({ patterns: [] });

test('the issue\'s required kinds are all covered by default rules', () => {
  const names = DEFAULT_RULES.map((r) => r.name);
  for (const n of ['email', 'bearer-token', 'aws-access-key-id', 'private-key', 'jwt', 'github-pat', 'slack-bot-token', 'google-api-key', 'stripe-key']) assert.ok(names.includes(n), n);
  for (const r of DEFAULT_RULES) assert.ok(SECRET_ARBS[r.name], `a generator for ${r.name}`);
});

test('declared maxLength is the regex\'s longest match, and no default rule can backtrack catastrophically', () => {
  for (const r of DEFAULT_RULES) {
    const a = analyzeRegex(r.regex, r.flags);
    assert.equal(r.maxLength, a.maxLength, r.name);
    assert.equal(a.catastrophic, undefined, r.name);
    assert.ok(Number.isFinite(a.maxLength), r.name);
  }
});

test('every generated secret is redacted whole by its own rule, and its anchor is where the rule says', () => {
  for (const r of DEFAULT_RULES) {
    for (const secret of fc.sample(SECRET_ARBS[r.name]!, 30)) {
      const out = redactor.redact(`before ${secret} after`, { json: false });
      assert.equal(out.text, `before ${r.replace} after`, `${r.name}: ${secret}`);
      assert.deepEqual(out.matches, [r.name]);
      const at = Math.min(...r.anchors.map((a) => secret.indexOf(a)).filter((i) => i >= 0));
      assert.ok(at >= 0 && at <= r.anchorOffset, `${r.name}: anchor within ${r.anchorOffset} of the start`);
    }
  }
});

// Near misses: one character short, a wrong prefix, glued to a word, or prose.
const NEGATIVES: Record<string, string[]> = {
  'private-key': ['-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0000000000000000000000000000000000\n-----END PUBLIC KEY-----', '-----BEGIN RSA PRIVATE KEY-----\nshort\n-----END RSA PRIVATE KEY-----'],
  jwt: ['eyJhbGciOiJIUzI1NiJ9', 'they.eyes.example', 'keyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijkl'],
  'bearer-token': ['Bearer authentication', 'Bearer <token>', 'Bearer short123'],
  'aws-access-key-id': ['AKIAIOSFODNN7EXAMPL', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAiosfodnn7example'],
  'github-pat': [`ghp_${'a'.repeat(35)}`, `ghx_${'a'.repeat(36)}`],
  'github-oauth': [`gho_${'a'.repeat(35)}`],
  'github-app-token': [`ghz_${'a'.repeat(36)}`],
  'github-refresh-token': [`ghr_${'a'.repeat(20)}`],
  'github-fine-grained-pat': [`github_pat_${'a'.repeat(81)}`],
  'slack-bot-token': ['xoxb-123-456', 'xoxb-123456789-1234567890'],
  'slack-user-token': ['xoxp-1234567890-1234567890-short'],
  'slack-app-token': ['xapp-x-abc-123-def', 'xapp-1-ABC'],
  'slack-legacy-token': ['xoxs-abc'],
  'slack-webhook-url': ['hooks.slack.com/services/short', 'hooks.slack.com/apps/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  'google-api-key': [`AIza${'a'.repeat(34)}`, `AIza${'a'.repeat(36)}`, `xAIza${'a'.repeat(35)}`],
  'stripe-key': ['sk_live_short', `pk_live_${'a'.repeat(24)}`, `sk_${'a'.repeat(24)}`],
  email: ['user@localhost', 'not an @ address', '@example.com', 'a@b.c'],
};

test('near misses are left alone', () => {
  for (const [rule, texts] of Object.entries(NEGATIVES)) {
    for (const t of texts) {
      const out = redactor.redact(`x ${t} y`, { json: false });
      assert.deepEqual(out.matches, [], `${rule}: ${t}`);
      assert.equal(out.text, `x ${t} y`);
    }
  }
});

test('secrets inside JSON strings (escaped) are found and the JSON stays valid', () => {
  for (const r of DEFAULT_RULES) {
    for (const secret of fc.sample(SECRET_ARBS[r.name]!, 10)) {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: `line one\n${secret}\n"quoted" \\ end` }] } });
      const out = redactor.redact(body);
      assert.ok(out.matches.includes(r.name), `${r.name} in ${body}`);
      const parsed = JSON.parse(out.text) as { id: number; result: { content: { text: string }[] } };
      assert.equal(parsed.id, 7);
      assert.ok(!parsed.result.content[0]!.text.includes(secret));
      assert.ok(parsed.result.content[0]!.text.includes(r.replace));
    }
  }
});

test('linear time: 1 MB of adversarial input per rule finishes (raw regex and redactor)', () => {
  const MB = 1024 * 1024;
  for (const r of DEFAULT_RULES) {
    // Strings built from the rule's own anchors and the characters its classes accept, never completing a match.
    const shapes = [...r.anchors.map((a) => `${a}${'a'.repeat(40)}-`), `${r.anchors[0]}${'A1'.repeat(3000)}`, `${'a'.repeat(63)}.${r.anchors[0]}`, `-----BEGIN PRIVATE KEY-----${'A'.repeat(100)}`];
    for (const unit of shapes) {
      const text = unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
      const re = new RegExp(r.regex, `${r.flags}g`);
      let n = 0;
      while (re.exec(text) && n < 1e6) n++;
      redactor.redact(text, { json: false });
    }
  }
});
