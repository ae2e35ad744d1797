/**
 * The browser-origin allowlist of `$connect`. Pure: no AWS client.
 *
 * Browsers apply no CORS to WebSockets: any page on any site can open a socket to the service
 * with the visitor's cookies (cross-site WebSocket hijacking). What a browser cannot forge is
 * the `Origin` header of the upgrade request, so the allowlist decides which sites' pages may
 * connect. It does nothing against scripts and curl, which send any Origin they like: that is
 * what the token is for.
 */
import { AuthConfigError } from './refusal.js';

/**
 * Whether `*.<domain>` would let in pages strangers can host: public-suffix.ts
 * `isWildcardTooBroad`. Passed in rather than imported, so that the Public Suffix List (about
 * 250 KB of code) is only loaded, lazily, by stacks whose allowlist holds a wildcard.
 */
export type WildcardCheck = (domain: string) => boolean;

/** A parsed `ALLOWED_ORIGINS` value. */
export interface OriginAllowlist {
  /** `*` was listed explicitly: every browser origin, including `null`, is allowed. */
  any: boolean;
  /** Exact origins, serialised as `scheme://host[:port]` (lower-case host, default port dropped). */
  exact: ReadonlySet<string>;
  /** `scheme://*.domain[:port]` entries: any subdomain, at any depth, of `domain`. */
  wildcards: readonly WildcardOrigin[];
}

interface WildcardOrigin {
  /** `https:` or `http:`. */
  protocol: string;
  /** The registrable part after `*.`, lower case (`example.com`). */
  domain: string;
  /** `''` for the scheme's default port, as WHATWG URL serialises it. */
  port: string;
}

/** Browsers only send http(s) origins we could match; other schemes serialise as `null`. */
const WEB_PROTOCOLS = new Set(['http:', 'https:']);
/** Stands in for `*` while the URL parser normalises a wildcard entry's host and port. */
const WILDCARD_LABEL = 'airwave-wildcard';

/**
 * Parses a value as an origin (`scheme://host[:port]`, an optional trailing `/`). Anything with
 * a path, query, fragment or credentials is not an origin and gives `undefined`.
 */
function parseOrigin(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!WEB_PROTOCOLS.has(url.protocol)) return undefined;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined;
  // `new URL('https://a.com?')` has an empty search too: refuse anything after the authority.
  if (/[?#]/.test(value)) return undefined;
  return url;
}

/** Whether a raw `ALLOWED_ORIGINS` value holds a wildcard entry (and so needs a WildcardCheck). */
export const hasWildcardOrigin = (raw: string | undefined): boolean => /(^|,)\s*[a-z]+:\/\/\*\./i.test(raw ?? '');

/**
 * Parses the comma-separated `ALLOWED_ORIGINS`. Throws an AuthConfigError on an entry that is
 * not an origin, a wildcard origin or `*`, and on a wildcard that `isTooBroad` refuses: a typo
 * in an allowlist must break loudly, not silently refuse (or allow) the wrong sites. A wildcard
 * without `isTooBroad` to check it is refused too.
 *
 * @example
 * ```ts
 * const allow = parseAllowedOrigins('https://app.example.com, https://*.example.com', isWildcardTooBroad);
 * isOriginAllowed(allow, 'https://a.b.example.com'); // true
 * ```
 */
export function parseAllowedOrigins(raw: string | undefined, isTooBroad?: WildcardCheck): OriginAllowlist {
  const exact = new Set<string>();
  const wildcards: WildcardOrigin[] = [];
  let any = false;
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    if (entry === '*') {
      any = true;
      continue;
    }
    const wildcard = /^([a-z]+:\/\/)\*\.(.+)$/i.exec(entry);
    const url = parseOrigin(wildcard ? `${wildcard[1]}${WILDCARD_LABEL}.${wildcard[2]}` : entry);
    if (!url || url.hostname.includes('*'))
      throw new AuthConfigError(`ALLOWED_ORIGINS entry is not an origin: "${entry}"`, 'ALLOWED_ORIGINS');
    if (wildcard) {
      const domain = url.hostname.slice(WILDCARD_LABEL.length + 1);
      // `https://*.com`, `*.github.io` or `*.amazonaws.com` would let in pages anyone can host.
      // `*.localhost` is kept: browsers resolve those names to this machine only (RFC 6761).
      if (domain !== 'localhost') {
        if (!isTooBroad)
          throw new AuthConfigError(
            `ALLOWED_ORIGINS wildcard cannot be checked against the public suffix list: "${entry}"`,
            'ALLOWED_ORIGINS',
          );
        if (isTooBroad(domain)) throw new AuthConfigError(`ALLOWED_ORIGINS wildcard covers a public suffix: "${entry}"`, 'ALLOWED_ORIGINS');
      }
      wildcards.push({ protocol: url.protocol, domain, port: url.port });
    } else {
      exact.add(url.origin);
    }
  }
  return { any, exact, wildcards };
}

/**
 * Whether a request's `Origin` header value is allowed. `null` (sandboxed iframes, `file:`
 * pages, some redirects) is a browser origin nobody can vouch for: allowed only by `*`. A value
 * that is not an origin at all is refused unless `*`.
 */
export function isOriginAllowed(allow: OriginAllowlist, origin: string): boolean {
  if (allow.any) return true;
  const url = parseOrigin(origin.trim());
  if (!url) return false;
  if (allow.exact.has(url.origin)) return true;
  const host = url.hostname;
  return allow.wildcards.some(
    (w) =>
      w.protocol === url.protocol &&
      w.port === url.port &&
      // The dot before the domain is what refuses `evil-example.com` for `*.example.com`, and
      // comparing the end of the host refuses `a.example.com.evil.net`.
      host.length > w.domain.length + 1 &&
      host.endsWith(`.${w.domain}`),
  );
}
