/**
 * The client's IP address, for per-IP limits and logs.
 *
 * The socket peer is the client unless the peer is a configured trusted proxy. Only then is
 * X-Forwarded-For read, from the right (each proxy appends the address it received from), skipping
 * trusted addresses: the rightmost untrusted entry is the client. Everything to its left was
 * written by the client and is ignored, so a random X-Forwarded-For never changes the answer
 * unless a trusted proxy vouches for it.
 *
 * An entry that is not an IP address (`unknown`, garbage, an obfuscated RFC 7239 identifier) stops
 * the walk: the answer is the last trusted hop, the one that wrote it. Requests with a broken
 * chain are thus limited together under that proxy's address, which is stricter, never looser.
 *
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as Node reports peers on a dual-stack socket) is normalised
 * to IPv4, and IPv6 to its RFC 5952 text, so one address is always one key.
 */
import { BlockList } from 'node:net';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { SETTINGS } from '../settings.ts';
import { parseCidr, parseIp, type ParsedIp } from './ip.ts';

/** Parsed MCP_AUTH_TRUSTED_PROXIES. */
export interface TrustedProxies {
  readonly size: number;
  contains(ip: ParsedIp): boolean;
}

/** Walking more trusted hops than this means a forged chain of trusted addresses: stop there. */
const MAX_HOPS = 32;

/**
 * Parse trusted-proxy CIDRs (a bare address is a single host). Throws one ConfigError naming every
 * bad entry.
 */
export function parseTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  // IPv4 ranges are matched here (a mask and compare per range, on every request behind a
  // proxy); IPv6 ones by net.BlockList.
  const v4: { net: number; mask: number }[] = [];
  const v6 = new BlockList();
  let anyV6 = false;
  const issues: ConfigIssue[] = [];
  const addV4 = (n: number, bits: number) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    v4.push({ net: (n & mask) >>> 0, mask });
  };
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed === undefined) {
      issues.push({ setting: SETTINGS.trustedProxies.env, value: JSON.stringify(cidr), expected: 'an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or fd00::/8, or a single address' });
      continue;
    }
    const { ip, addr, prefix, max } = parsed;
    if (ip.v === 4) {
      // An IPv4 address written in mapped form (::ffff:10.0.0.0/104) counts as IPv4 /8.
      const v4bits = prefix === undefined ? 32 : max === 128 ? prefix - 96 : prefix;
      if (v4bits >= 0) addV4(ip.n!, v4bits);
      else {
        // A v6 prefix shorter than /96 around mapped space holds all of IPv4 and more.
        addV4(0, 0);
        v6.addSubnet(addr, prefix!, 'ipv6');
        anyV6 = true;
      }
    } else {
      v6.addSubnet(ip.text, prefix ?? 128, 'ipv6');
      anyV6 = true;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    size: cidrs.length,
    contains(ip: ParsedIp): boolean {
      if (ip.v === 6) return anyV6 && v6.check(ip.text, 'ipv6');
      const n = ip.n!;
      for (const r of v4) if (((n & r.mask) >>> 0) === r.net) return true;
      return false;
    },
  });
}

/** An X-Forwarded-For element without a port: `1.2.3.4:80` and `[2001:db8::1]:443` occur. */
function stripPort(s: string): string {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    return end > 0 ? s.slice(1, end) : s;
  }
  const colon = s.indexOf(':');
  return colon > 0 && colon === s.lastIndexOf(':') && s.includes('.') ? s.slice(0, colon) : s;
}

/**
 * The client IP of a request: `peer` is the socket's remoteAddress, `xff` the X-Forwarded-For
 * header (Node joins repeated headers with ", "; an array is accepted too).
 */
export function clientIp(peer: string, xff: string | string[] | undefined, trusted: TrustedProxies): string {
  const p = parseIp(peer);
  if (p === undefined) return peer; // a socket always has an address; keep whatever Node gave
  if (xff === undefined || trusted.size === 0 || !trusted.contains(p)) return p.text;
  const header = Array.isArray(xff) ? xff.join(',') : xff;
  let current = p.text;
  let end = header.length;
  for (let hops = 0; end > 0 && hops < MAX_HOPS; ) {
    const start = header.lastIndexOf(',', end - 1);
    const raw = header.slice(start + 1, end).trim();
    end = start;
    // RFC 9110 5.6.1: empty list elements are ignored.
    if (raw === '') continue;
    const ip = parseIp(stripPort(raw));
    if (ip === undefined) return current;
    if (!trusted.contains(ip)) return ip.text;
    current = ip.text;
    hops++;
  }
  return current;
}
