/**
 * Structured config-file sections that no environment variable can carry. Each is parsed by the
 * module that owns its meaning; config.ts calls them all and reports their issues with the rest.
 */
import type { SectionResult } from './errors.ts';
import type { FILE_SECTIONS } from './settings.ts';
import { parseDlpPatterns, type DlpPattern } from './dlp/patterns.ts';
import { parseToolGroups, type ToolGroups } from './policy/groups.ts';
import { parseToolLimits, type ToolLimits } from './limit/tool-limits.ts';

/** A section parser: the raw value from the file (undefined when absent) and where it was found. */
export type SectionParser<T> = (raw: unknown, where: string) => SectionResult<T>;

export interface Sections {
  /** Per-group tool policy: group name -> allowed and denied tools. */
  readonly 'tools.groups': ToolGroups;
  /** Per-tool rate limits, per identity. */
  readonly 'rateLimit.tools': ToolLimits;
  /** Custom DLP patterns, applied after the default rules. */
  readonly 'dlp.patterns': readonly DlpPattern[];
}

export const SECTION_PARSERS: { readonly [K in (typeof FILE_SECTIONS)[number]]: SectionParser<Sections[K]> } = {
  'tools.groups': parseToolGroups,
  'rateLimit.tools': parseToolLimits,
  'dlp.patterns': parseDlpPatterns,
};
