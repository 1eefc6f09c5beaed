/**
 * The default DLP rules, as data. Most regexes are taken from gitleaks' default configuration
 * (config/gitleaks.toml, MIT licence: see RULES-NOTICE.md next to this file) and adapted to
 * JavaScript and to streaming:
 *
 * - every quantifier is bounded (`*`, `+` and `{n,}` became `{m,n}`), so the longest possible match
 *   is known and the stream hold-back is bounded by it, not by the body;
 * - gitleaks' trailing `(?:[\x60'"\s;]|\\[nr]|$)` became a negative lookahead: `$` means "end of the
 *   buffer" in a stream, which is not the end of the body;
 * - Go's `(?i)` prefix became the `i` flag.
 *
 * `anchors` are literal strings of which every match contains one, at most `anchorOffset`
 * characters after the match start. The scanner finds anchors with indexOf and runs the regex only
 * around them; that is what makes the scan fast (see bench/dlp.bench.ts). `maxLength` is the
 * longest match, checked against the regex by test/sidecar/dlp/rules.test.ts.
 */

export interface DlpRule {
  /** Rule name: the metric label and the default replacement's tag. Never the secret. */
  readonly name: string;
  /** JavaScript regex source. Matched against the body's bytes read as latin1 (one char per byte). */
  readonly regex: string;
  /** RegExp flags besides g/y (which the scanner adds). */
  readonly flags: string;
  /** Replacement text. */
  readonly replace: string;
  /** Literals of which every match contains one (case-sensitive). */
  readonly anchors: readonly string[];
  /** How far after the match start an anchor can begin (0: the match starts with the anchor). */
  readonly anchorOffset: number;
  /**
   * With anchorOffset > 0: a character class (regex source) holding every character a match can
   * have before its anchor. Lets a stream release text that cannot lead up to a future anchor.
   */
  readonly lead?: string;
  /** The longest possible match, in characters. */
  readonly maxLength: number;
  /** Where the regex comes from. */
  readonly source: string;
}

const GITLEAKS = 'gitleaks config/gitleaks.toml';

/**
 * A word boundary at the start that also holds after a JSON escape: in a JSON body a token often
 * follows `\n` (two chars), and `\b` would see the `n` as a word character and miss it.
 */
const WB = '(?:(?<![A-Za-z0-9_])|(?<=\\\\[nrt]))';

function rule(name: string, regex: string, anchors: readonly string[], maxLength: number, source: string, extra: { flags?: string; anchorOffset?: number; lead?: string; replace?: string } = {}): DlpRule {
  return Object.freeze({ name, regex, flags: extra.flags ?? '', replace: extra.replace ?? `[REDACTED:${name}]`, anchors: Object.freeze([...anchors]), anchorOffset: extra.anchorOffset ?? 0, ...(extra.lead === undefined ? {} : { lead: extra.lead }), maxLength, source });
}

/** The default rules, in priority order (when two match at the same place, the longer wins, then the earlier rule). */
export const DEFAULT_RULES: readonly DlpRule[] = Object.freeze([
  // gitleaks `private-key`: the whole block, header to footer (lazy body, bounded to 8 KiB: an RSA-4096
  // PEM is about 3.3 KB, JSON-escaped a little more). `[\s\S]` also spans JSON's two-char `\n` escapes.
  rule('private-key', '-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]{64,8192}?KEY(?: BLOCK)?-----', ['-----'], 8338, `${GITLEAKS} private-key`, { flags: 'i' }),
  // gitleaks `jwt`, with the header's third character pinned: a JOSE header is a JSON object, `{"`
  // or `{ ` in base64url is `eyJ`-`eyL` or `eyA`-`eyD`. Those eight anchors are rare in prose, where
  // gitleaks' bare `ey` ("they", "key") would make every event a candidate.
  rule('jwt', `${WB}ey[A-DI-L][a-zA-Z0-9]{16,2047}\\.ey[a-zA-Z0-9\\/\\\\_-]{17,8192}\\.(?:[a-zA-Z0-9\\/\\\\_-]{10,2048}={0,2})?(?![a-zA-Z0-9\\/\\\\_=-])`, ['eyA', 'eyB', 'eyC', 'eyD', 'eyI', 'eyJ', 'eyK', 'eyL'], 12297, `${GITLEAKS} jwt`),
  // RFC 6750 2.1: `Bearer` b64token. Own rule; at least 16 token chars so prose ("Bearer authentication") is left alone.
  rule('bearer-token', `${WB}[Bb]earer[ \\t]{1,8}[A-Za-z0-9\\-._~+/]{16,4096}={0,8}(?![A-Za-z0-9\\-._~+/=])`, ['Bearer', 'bearer'], 4119, 'RFC 6750 section 2.1', { replace: 'Bearer [REDACTED:bearer-token]' }),
  // gitleaks `aws-access-token`.
  rule('aws-access-key-id', `${WB}(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\\b`, ['A3T', 'AKIA', 'ASIA', 'ABIA', 'ACCA'], 20, `${GITLEAKS} aws-access-token`),
  // gitleaks `github-pat`, `github-oauth`, `github-app-token`, `github-refresh-token`, `github-fine-grained-pat`.
  rule('github-pat', 'ghp_[0-9a-zA-Z]{36}', ['ghp_'], 40, `${GITLEAKS} github-pat`),
  rule('github-oauth', 'gho_[0-9a-zA-Z]{36}', ['gho_'], 40, `${GITLEAKS} github-oauth`),
  rule('github-app-token', '(?:ghu|ghs)_[0-9a-zA-Z]{36}', ['ghu_', 'ghs_'], 40, `${GITLEAKS} github-app-token`),
  rule('github-refresh-token', 'ghr_[0-9a-zA-Z]{36}', ['ghr_'], 40, `${GITLEAKS} github-refresh-token`),
  rule('github-fine-grained-pat', 'github_pat_\\w{82}', ['github_pat_'], 93, `${GITLEAKS} github-fine-grained-pat`),
  // gitleaks `slack-bot-token` (trailing `*` bounded), `slack-user-token`, `slack-app-token` (`+` bounded;
  // the `(?i)` dropped so the `xapp` anchor is exact), `slack-legacy-token`, `slack-webhook-url` (the
  // optional scheme dropped: it is not secret and an anchor at the start keeps the scan cheap).
  rule('slack-bot-token', 'xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]{0,128}', ['xoxb-'], 160, `${GITLEAKS} slack-bot-token`),
  rule('slack-user-token', 'xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}', ['xoxp-', 'xoxe-'], 81, `${GITLEAKS} slack-user-token`),
  rule('slack-app-token', 'xapp-\\d-[A-Za-z0-9]{1,32}-\\d{1,32}-[A-Za-z0-9]{1,128}', ['xapp-'], 201, `${GITLEAKS} slack-app-token`),
  rule('slack-legacy-token', 'xox[os]-\\d{1,32}-\\d{1,32}-\\d{1,32}-[a-fA-F\\d]{1,128}', ['xoxo-', 'xoxs-'], 232, `${GITLEAKS} slack-legacy-token`),
  rule('slack-webhook-url', 'hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}', ['hooks.slack.com/'], 82, `${GITLEAKS} slack-webhook-url`),
  // gitleaks `gcp-api-key`.
  rule('google-api-key', `${WB}AIza[\\w-]{35}(?![\\w-])`, ['AIza'], 40, `${GITLEAKS} gcp-api-key`),
  // gitleaks `stripe-access-token`.
  rule('stripe-key', `${WB}(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}(?![a-zA-Z0-9])`, ['sk_test_', 'sk_live_', 'sk_prod_', 'rk_test_', 'rk_live_', 'rk_prod_'], 108, `${GITLEAKS} stripe-access-token`),
  // Email addresses (RFC 5321 4.5.3.1: local part at most 64 octets, labels at most 63). Own rule,
  // ASCII only; the `@` anchor sits at most 64 characters after the start. The local part starts
  // where its run of characters starts (the lookbehind), so each `@` costs one full attempt.
  rule('email', '(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])', ['@'], 602, 'RFC 5321 section 4.5.3.1', { anchorOffset: 64, lead: '[A-Za-z0-9._%+-]' }),
]);
