/**
 * IP address text: parse, normalise, and the per-IP rate-limit key.
 *
 * IPv4 is parsed here (strict dotted quad, as inet_pton: no leading zeros, no shorthand) because
 * the trusted-proxy matcher needs its 32-bit value, which net.isIPv4 does not give; IPv6 validation
 * is Node's (net.isIPv6). Either way one address gets one canonical text, so `2001:DB8:0::1`, `2001:db8::1`
 * and, for IPv4, `::ffff:192.0.2.1` and `192.0.2.1` each give the same key.
 */
import { isIPv6 } from 'node:net';

export interface ParsedIp {
  readonly v: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as ::). */
  readonly text: string;
  /** The eight 16-bit groups, for IPv6. */
  readonly groups?: readonly number[];
  /** The address as an unsigned 32-bit number, for IPv4. */
  readonly n?: number;
}

/** A strict dotted quad as an unsigned 32-bit number, or -1. */
export function parseIpv4(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero: "01" is octal to some parsers
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

const v4text = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** IPv4 dotted quad to four numbers (valid input only). */
function quad(s: string): number[] {
  return s.split('.').map(Number);
}

/** Expand valid IPv6 text (no zone) to eight groups. */
function groupsOf(s: string): number[] {
  let tail4: number[] = [];
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const q = quad(s.slice(lastColon + 1));
    tail4 = [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
    // "a:b::1.2.3.4" keeps its "::"; "a:b:c:d:e:f:1.2.3.4" loses the trailing ":".
    text = s.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const want = 8 - tail4.length;
  const [left = '', right] = text.split('::');
  const l = left === '' || left === ':' ? [] : left.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16));
  const r = right === undefined ? [] : right.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16));
  const zeros = right === undefined ? 0 : want - l.length - r.length;
  return [...l, ...new Array<number>(zeros).fill(0), ...r, ...tail4];
}

/** RFC 5952 section 4: lower case, no leading zeros, the longest run (>= 2) of zero groups as ::. */
export function formatIpv6(g: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parse an IP address; undefined when `s` is not one. A zone (`fe80::1%eth0`) is dropped. */
export function parseIp(s: string): ParsedIp | undefined {
  const v4 = parseIpv4(s);
  if (v4 >= 0) return { v: 4, text: s, n: v4 };
  const pct = s.indexOf('%');
  const bare = pct >= 0 ? s.slice(0, pct) : s;
  if (!isIPv6(bare)) return undefined;
  const g = groupsOf(bare.toLowerCase());
  if (g.length !== 8) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const n = g[6]! * 65536 + g[7]!;
    return { v: 4, text: v4text(n), n };
  }
  return { v: 6, text: formatIpv6(g), groups: g };
}

/** A parsed CIDR: the address, its prefix (undefined for a bare address) and the family's width. */
export interface ParsedCidr {
  readonly ip: ParsedIp;
  readonly addr: string;
  readonly prefix: number | undefined;
  readonly max: 32 | 128;
}

/**
 * Parse an IPv4 or IPv6 CIDR (a bare address means one host); undefined when it is not one. The
 * one rule for MCP_AUTH_TRUSTED_PROXIES: the settings validator and the proxy matcher both use it,
 * so a value config accepts is always one the matcher can build.
 */
export function parseCidr(s: string): ParsedCidr | undefined {
  const [addr = '', bits, ...rest] = s.trim().split('/');
  const ip = parseIp(addr);
  if (ip === undefined || rest.length > 0) return undefined;
  const max = ip.v === 4 && !addr.includes(':') ? 32 : 128;
  if (bits === undefined) return { ip, addr, prefix: undefined, max };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { ip, addr, prefix: Number(bits), max };
}

/**
 * The per-IP rate-limit key. IPv4: the address. IPv6: its /`v6PrefixBits` network (default /64),
 * because one subscriber or host routinely holds a whole /64 and could rotate through 2^64
 * addresses to get a fresh bucket per request.
 */
export function ipKey(ip: string, v6PrefixBits = 64): string {
  if (!ip.includes(':')) return ip;
  const p = parseIp(ip);
  if (p === undefined || p.v === 4) return p?.text ?? ip;
  const g = p.groups!.map((x, i) => {
    const keep = Math.min(16, Math.max(0, v6PrefixBits - 16 * i));
    return keep === 0 ? 0 : x & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${formatIpv6(g)}/${v6PrefixBits}`;
}
