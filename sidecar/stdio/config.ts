/**
 * The bridge's configuration: environment variables parsed once into a frozen object, every problem
 * reported at once (ConfigError; main.ts exits 2), by the sidecar's own rules: an `MCP_STDIO_*`
 * variable that is no setting is an error with the nearest known name (unknown-settings.ts), and a
 * variable that is set but empty is refused rather than read as unset (read-setting.ts).
 */
import { deepFreeze } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { readSetting } from '../read-setting.ts';
import type { Setting } from '../settings.ts';
import { unknownVariables, type VariableNames } from '../unknown-settings.ts';
import { BRIDGE_ENV_PREFIX, BRIDGE_SETTINGS, type BridgeSettingKey, type BridgeSettings } from './settings.ts';

export type BridgeConfig = BridgeSettings;

const BRIDGE_VARIABLES: VariableNames = { prefix: BRIDGE_ENV_PREFIX, known: new Set(Object.values(BRIDGE_SETTINGS).map((s) => s.env)), what: 'a stdio bridge setting' };

/** Parse the bridge's variables; throws one ConfigError naming every bad one. */
export function loadBridgeConfig(env: Readonly<Record<string, string | undefined>>): BridgeConfig {
  // Unknown names first, so a typo is reported beside whatever it left unset.
  const issues = unknownVariables(env, BRIDGE_VARIABLES);
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(BRIDGE_SETTINGS) as [BridgeSettingKey, Setting<unknown>][]) values[key] = readSetting(setting, env[setting.env], setting.env, issues);
  const c = values as unknown as BridgeConfig;
  if (issues.length === 0 && c.listenPort !== 0 && c.listenPort === c.adminPort) {
    issues.push({ setting: BRIDGE_SETTINGS.adminPort.env, value: String(c.adminPort), expected: `a port other than ${BRIDGE_SETTINGS.listenPort.env} (${c.listenPort})` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(c);
}
