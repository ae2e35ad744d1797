/**
 * The Public Suffix List (ICANN and private sections), through `tldts`, for the one question the
 * origin allowlist asks: may `*.<domain>` be trusted, or can strangers host pages under it?
 * Pure: no AWS client, no network (the list is compiled into the package, pinned exactly).
 *
 * A wildcard is only as narrow as the party that controls every name under it. `*.co.uk`,
 * `*.github.io` or `*.cloudfront.net` cover sites anyone can register or publish, and so does
 * `*.amazonaws.com`, which is no public suffix itself but holds many (`s3.amazonaws.com`,
 * `execute-api.us-east-1.amazonaws.com`, ...). Both cases are refused.
 */
import { getPublicSuffix } from 'tldts';
// tldts answers lookups for one hostname only; whether any suffix lies *beneath* a domain needs
// its compiled rule trie. It is a documented build output of the exactly pinned version, and
// test/shared/auth/public-suffix.test.ts fails loudly should an upgrade change its layout.
import { edgeChild, edgeLength, edgeStart, labelText, rulesRoot } from 'tldts/dist/cjs/src/data/trie.js';

/** Where each edge's label starts in `labelText`: labels are stored back to back in edge order. */
const labelOffset = (() => {
  const offsets = new Uint32Array(edgeLength.length + 1);
  for (let edge = 0; edge < edgeLength.length; edge += 1) offsets[edge + 1] = offsets[edge] + edgeLength[edge];
  return offsets;
})();

/** The child of `node` along `label`, or -1. A node has few edges: a scan is enough here. */
function childOf(node: number, label: string): number {
  for (let edge = edgeStart[node]; edge < edgeStart[node + 1]; edge += 1) {
    if (edgeLength[edge] === label.length && labelText.startsWith(label, labelOffset[edge])) return edgeChild[edge];
  }
  return -1;
}

/**
 * Whether the list has a rule for a name strictly below `domain` (lower case, punycode, no
 * trailing dot): `amazonaws.com` → true (`s3.amazonaws.com`), `example.com` → false.
 */
export function hasPublicSuffixBelow(domain: string): boolean {
  let node = rulesRoot;
  for (const label of domain.split('.').reverse()) {
    // The list's `*` rules (`*.compute.amazonaws.com`) stand for any one label.
    let next = childOf(node, label);
    if (next === -1) next = childOf(node, '*');
    if (next === -1) return false;
    node = next;
  }
  return edgeStart[node + 1] > edgeStart[node];
}

/** Whether `domain` is itself a public suffix (`com`, `co.uk`, `github.io`, `s3.amazonaws.com`). */
export function isPublicSuffix(domain: string): boolean {
  return getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/**
 * Whether `*.<domain>` would let strangers in: `domain` is a public suffix, or has one below
 * it. A name the list does not know ends in an unknown top-level domain, which the list treats
 * as a suffix of its own (`*.internal` is refused too).
 *
 * @example
 * ```ts
 * isWildcardTooBroad('example.com'); // false
 * isWildcardTooBroad('github.io'); // true: anyone can publish at <name>.github.io
 * isWildcardTooBroad('amazonaws.com'); // true: it holds s3.amazonaws.com and many more
 * ```
 */
export function isWildcardTooBroad(domain: string): boolean {
  return isPublicSuffix(domain) || hasPublicSuffixBelow(domain);
}
