/**
 * Names the sidecar does not know: `MCP_AUTH_*` variables that are no setting and config-file keys
 * that are no setting, each reported with the nearest known name. A typo in a security setting
 * (`MCP_AUTH_KEYS=secret` for `MCP_AUTH_KEY`) would otherwise leave the server open without a word.
 * The stdio bridge checks its `MCP_STDIO_*` variables with the same rule (stdio/config.ts).
 */
import { isIP } from 'node:net';
import type { ConfigIssue } from './errors.ts';
import { CONFIG_FILE_ENV, FILE_SECTIONS, SETTINGS } from './settings.ts';
import { didYouMean } from './suggest.ts';

/** Every sidecar variable starts with this; any other variable that does is a mistake. */
const ENV_PREFIX = 'MCP_AUTH_';

const KNOWN_ENV: ReadonlySet<string> = new Set([...Object.values(SETTINGS).map((s) => s.env), CONFIG_FILE_ENV]);
const KNOWN_FILE: ReadonlySet<string> = new Set([...Object.values(SETTINGS).map((s) => s.file), ...FILE_SECTIONS]);
const FILE_BY_ENV: ReadonlyMap<string, string> = new Map(Object.values(SETTINGS).map((s) => [s.env, s.file]));

const PROTO = '(?:TCP|UDP|SCTP)';
const SERVICE_LINKS: ReadonlyArray<readonly [RegExp, (v: string) => boolean]> = [
  [/_SERVICE_HOST$/, (v) => isIP(v) !== 0],
  [/_SERVICE_PORT(?:_[A-Z0-9_]+)?$/, (v) => /^\d{1,5}$/.test(v)],
  [new RegExp(`_PORT(?:_\\d{1,5}_${PROTO})?$`), (v) => /^(?:tcp|udp|sctp):\/\/\S+:\d{1,5}$/.test(v)],
  [new RegExp(`_PORT_\\d{1,5}_${PROTO}_PROTO$`), (v) => /^(?:tcp|udp|sctp)$/.test(v)],
  [new RegExp(`_PORT_\\d{1,5}_${PROTO}_PORT$`), (v) => /^\d{1,5}$/.test(v)],
  [new RegExp(`_PORT_\\d{1,5}_${PROTO}_ADDR$`), (v) => isIP(v) !== 0],
];

/**
 * Kubernetes service links: for every Service in the namespace the kubelet adds `<NAME>_SERVICE_HOST`,
 * `<NAME>_PORT_8080_TCP` and friends to every container (`enableServiceLinks`, on by default), so a
 * Service named `mcp-auth` would give the sidecar `MCP_AUTH_SERVICE_HOST`. Such a variable is
 * recognised by both its name and its value (an address, a port, `tcp://addr:port`), so a typo such
 * as `MCP_AUTH_PORT=8080` is still reported.
 */
function isServiceLink(name: string, value: string): boolean {
  return SERVICE_LINKS.some(([re, valueOk]) => re.test(name) && valueOk(value));
}

/** One program's variables: the prefix they all share, the names it knows, and what a name is to it. */
export interface VariableNames {
  readonly prefix: string;
  readonly known: ReadonlySet<string>;
  /** What a known name is, for the message: "a sidecar setting". */
  readonly what: string;
}

const SIDECAR_VARIABLES: VariableNames = { prefix: ENV_PREFIX, known: KNOWN_ENV, what: 'a sidecar setting' };

/** Variables under the prefix (in any letter case) that are not settings, each with a suggestion. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>, names: VariableNames = SIDECAR_VARIABLES): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || names.known.has(name) || !name.toUpperCase().startsWith(names.prefix)) continue;
    if (isServiceLink(name, value)) continue;
    // The value is not shown: an unknown variable may well be a misspelt secret.
    issues.push({ setting: name, value: 'set', expected: `no such variable: ${names.what}${didYouMean(name.toUpperCase(), names.known, ' (see the settings table in the README)')}` });
  }
  return issues;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Keys in a parsed config file that are not settings, reported at the shallowest unknown level
 * (`rateLimit.tool`, not every key below it), each with the nearest known key. A variable's name
 * used as a key (`MCP_AUTH_KEY:`) is pointed to its nested key.
 */
export function unknownFileKeys(doc: Record<string, unknown>, filePath: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (KNOWN_FILE.has(path)) continue;
      const children = [...KNOWN_FILE].filter((f) => f.startsWith(`${path}.`));
      if (children.length > 0) {
        if (isMapping(v)) walk(v, path);
        else issues.push({ setting: `${filePath}: ${path}`, value: v === null ? 'empty' : 'present', expected: `a mapping of ${children.join(', ')}` });
        continue;
      }
      const nested = FILE_BY_ENV.get(k);
      const hint = nested !== undefined ? ` (did you mean ${nested}? the file nests keys; ${k} is the variable's name)` : didYouMean(path, KNOWN_FILE, ' (see the settings table in the README)');
      issues.push({ setting: `${filePath}: ${path}`, value: 'present', expected: `a known setting${hint}` });
    }
  };
  walk(doc, '');
  return issues;
}
