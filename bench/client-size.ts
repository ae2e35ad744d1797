/**
 * The client's size as a browser downloads it: client/src/index.ts bundled by esbuild (ESM,
 * platform browser, minified), then gzip (level 9) and brotli (max quality). Prints bytes.
 *
 * @example
 *   npx tsx bench/client-size.ts          # a table
 *   npx tsx bench/client-size.ts --json   # for machines
 */
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface ClientSize {
  minified: number;
  gzip: number;
  brotli: number;
}

const ENTRY = fileURLToPath(new URL('../client/src/index.ts', import.meta.url));

/** Bundles and compresses the client; returns the sizes in bytes. */
export async function measureClientSize(entry = ENTRY): Promise<ClientSize> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).byteLength,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const size = await measureClientSize();
  if (process.argv.includes('--json')) console.log(JSON.stringify(size));
  else {
    console.log('client/src/index.ts, esbuild --bundle --minify --format=esm --platform=browser');
    console.log(`minified         ${size.minified} bytes`);
    console.log(`minified + gzip  ${size.gzip} bytes`);
    console.log(`minified + br    ${size.brotli} bytes`);
  }
}
