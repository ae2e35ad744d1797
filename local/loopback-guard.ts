/**
 * Keeps the local stack to this machine's own tools and pages. It listens on 127.0.0.1 only, but
 * a browser on this machine reaches 127.0.0.1 for any web site it visits:
 *
 * - CSRF: a page on `https://evil.example` may POST `text/plain` (a "simple" request, sent
 *   without a CORS preflight) to `http://127.0.0.1:3001/2015-03-31/functions/PublishFunction/invocations`
 *   and the function runs, even though the page cannot read the answer. Browsers mark such
 *   requests with an `Origin` header and `Sec-Fetch-Site: cross-site`.
 * - DNS rebinding: `evil.example` re-resolves to 127.0.0.1, so the page becomes same-origin
 *   with the stack and reads its answers (`/_local/stack`, `/_local/stats`). Its requests carry
 *   `Host: evil.example`: only the Host header tells them apart.
 *
 * So every request must name a loopback host, and a browser request must come from a loopback
 * origin and not be cross-site. Tools (the AWS CLI and SDKs, curl, the stack's own functions)
 * send a loopback Host and no Origin, and pass. WebSocket upgrades are held to the Host check
 * only: their Origin is the template's business (its authorizer and `AllowedOrigins` decide, as
 * on AWS), and the stack must not hide that behaviour from tests.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4 } from 'node:net';

/** Why a request was refused; stable codes (they are logged, and the client sees the message). */
export type RefusalReason = 'foreign-host' | 'foreign-origin' | 'cross-site';

/** A refused request: the reason and the short message the client gets with 403. */
export interface Refusal {
  reason: RefusalReason;
  message: string;
}

const MESSAGES: Record<RefusalReason, string> = {
  'foreign-host': 'Forbidden: the local stack answers only requests to a loopback host (127.0.0.1, localhost, [::1])',
  'foreign-origin': 'Forbidden: the local stack answers browsers only from a loopback origin',
  'cross-site': 'Forbidden: the local stack refuses cross-site browser requests',
};

const LOOPBACK_V6 = new BlockList();
LOOPBACK_V6.addAddress('::1', 'ipv6');
// IPv4-mapped 127.0.0.0/8 (`[::ffff:127.0.0.1]`, which URL parsers write `[::ffff:7f00:1]`).
LOOPBACK_V6.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

const HOST_WITH_PORT = /^([^:[\]]+)(?::\d{1,5})?$/;
const IPV6_WITH_PORT = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/;

/**
 * True if `host` (a Host header value: name or address, optional port) is this machine:
 * `localhost`, an address of 127.0.0.0/8, `[::1]`, or `extra` (the address the stack was told
 * to listen on, if not loopback).
 *
 * @example isLoopbackHost('127.0.0.1:3001') // true
 * @example isLoopbackHost('evil.example:3001') // false (DNS rebinding)
 */
export function isLoopbackHost(host: string | undefined, extra?: string): boolean {
  if (!host) return false;
  const v6 = IPV6_WITH_PORT.exec(host);
  if (v6) {
    try {
      return LOOPBACK_V6.check(v6[1], 'ipv6') || (extra !== undefined && v6[1].toLowerCase() === extra.toLowerCase());
    } catch {
      return false; // not an IPv6 address after all
    }
  }
  const name = HOST_WITH_PORT.exec(host)?.[1].toLowerCase();
  if (name === undefined) return false;
  return name === 'localhost' || (isIPv4(name) && name.startsWith('127.')) || (extra !== undefined && name === extra.toLowerCase());
}

/** True if `origin` (an Origin header value) is an http(s) page served from this machine. */
export function isLoopbackOrigin(origin: string, extra?: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, file: pages) and anything malformed
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin && isLoopbackHost(url.host, extra);
}

const refusal = (reason: RefusalReason): Refusal => ({ reason, message: MESSAGES[reason] });

/**
 * A link followed from another site to a page of the stack (the demo page, linked from a doc):
 * a top-level GET whose answer goes to the user, not to the linking page, and no GET here
 * changes anything. Everything else cross-site (fetches, forms, frames, images) is refused.
 */
function isNavigation(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document' &&
    req.headers.origin === undefined
  );
}

/**
 * Checks a request against the rules above; `undefined` means serve it. `browserChecks: false`
 * (WebSocket upgrades) checks the Host only. `extraHost` is a non-loopback address the stack was
 * explicitly bound to: requests naming it are this machine's too.
 */
export function checkRequest(req: IncomingMessage, browserChecks: boolean, extraHost?: string): Refusal | undefined {
  // Distinct values: a request with two Host or two Origin headers is nobody's legitimate tool.
  const hosts = req.headersDistinct.host ?? [];
  if (hosts.length !== 1 || !isLoopbackHost(hosts[0], extraHost)) return refusal('foreign-host');
  if (!browserChecks) return undefined;
  const origins = req.headersDistinct.origin;
  if (origins !== undefined && (origins.length !== 1 || !isLoopbackOrigin(origins[0], extraHost))) return refusal('foreign-origin');
  // Without an Origin (a no-cors GET from an <img> or <script>), the browser still says where it came from.
  const site = req.headersDistinct['sec-fetch-site'] ?? [];
  if (site.some((value) => value.toLowerCase().includes('cross-site')) && !isNavigation(req)) return refusal('cross-site');
  return undefined;
}

/** A header value fit for a log line: bounded and with control characters escaped (it is attacker-chosen). */
export function loggable(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}
