/**
 * The compiled Public Suffix List trie inside `tldts` (shared/auth/public-suffix.ts reads it).
 * The package ships these declarations under dist/types, not beside the CommonJS build.
 */
declare module 'tldts/dist/cjs/src/data/trie.js' {
  export const nodeFlags: Uint8Array;
  export const edgeStart: Uint16Array;
  export const edgeLength: Uint8Array;
  export const edgeChild: Uint16Array;
  export const labelText: string;
  export const rulesRoot: number;
  export const exceptionsRoot: number;
}
