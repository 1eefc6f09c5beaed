/**
 * The bridge's configuration: environment variables parsed once into a frozen object, every problem
 * reported at once (ConfigError; main.ts exits 2), as sidecar/config.ts does for the sidecar.
 */
import { deepFreeze } from '../config.ts';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { Setting } from '../settings.ts';
import { BRIDGE_SETTINGS, type BridgeSettingKey, type BridgeSettings } from './settings.ts';

export type BridgeConfig = BridgeSettings;

/** Parse the bridge's variables; throws one ConfigError naming every bad one. */
export function loadBridgeConfig(env: Readonly<Record<string, string | undefined>>): BridgeConfig {
  const issues: ConfigIssue[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(BRIDGE_SETTINGS) as [BridgeSettingKey, Setting<unknown>][]) {
    const raw = env[setting.env];
    // An empty variable counts as unset, as Kubernetes renders `value: ""`.
    if (raw === undefined || raw.trim() === '') {
      values[key] = setting.default;
      continue;
    }
    const parsed = setting.parse(raw);
    if (parsed.ok) values[key] = parsed.value;
    else issues.push({ setting: setting.env, value: JSON.stringify(raw), expected: setting.expected + (parsed.detail ? ` (${parsed.detail})` : '') });
  }
  const c = values as unknown as BridgeConfig;
  if (issues.length === 0 && c.listenPort !== 0 && c.listenPort === c.adminPort) {
    issues.push({ setting: BRIDGE_SETTINGS.adminPort.env, value: String(c.adminPort), expected: `a port other than ${BRIDGE_SETTINGS.listenPort.env} (${c.listenPort})` });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(c);
}
