import { expect } from 'chai';
import { describePackages, type MetafileLike, packageOf, splitPackages, staticClosure } from '../../../bench/lib/bundle-graph.js';

// entry → store (static) → client-dynamodb (static); entry → clients (static) → client-lambda (dynamic only)
const metafile: MetafileLike = {
  inputs: {
    'functions/publish/index.ts': {
      bytes: 100,
      imports: [
        { path: 'shared/store.ts', kind: 'import-statement' },
        { path: 'shared/clients.ts', kind: 'import-statement' },
      ],
    },
    'shared/store.ts': {
      bytes: 100,
      imports: [{ path: 'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js', kind: 'import-statement' }],
    },
    'shared/clients.ts': {
      bytes: 100,
      imports: [
        { path: 'node_modules/@aws-sdk/client-lambda/dist-es/index.js', kind: 'dynamic-import' },
        { path: 'node:http', kind: 'import-statement', external: true },
      ],
    },
    'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js': { bytes: 9_000, imports: [] },
    'node_modules/@aws-sdk/client-lambda/dist-es/index.js': { bytes: 5_000, imports: [] },
  },
  outputs: {
    'out/index.mjs': {
      entryPoint: 'functions/publish/index.ts',
      inputs: {
        'functions/publish/index.ts': { bytesInOutput: 50 },
        'shared/store.ts': { bytesInOutput: 60 },
        'shared/clients.ts': { bytesInOutput: 70 },
        'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js': { bytesInOutput: 8_000 },
        'node_modules/@aws-sdk/client-lambda/dist-es/index.js': { bytesInOutput: 4_000 },
      },
    },
  },
};

describe('bench/lib/bundle-graph', () => {
  describe('packageOf', () => {
    it('names scoped and plain packages, and the repository own files', () => {
      expect(packageOf('node_modules/@aws-sdk/client-lambda/dist-es/index.js')).to.equal('@aws-sdk/client-lambda');
      expect(packageOf('node_modules/jose/dist/webapi/index.js')).to.equal('jose');
      expect(packageOf('node_modules/a/node_modules/b/x.js')).to.equal('b');
      expect(packageOf('shared/store.ts')).to.equal('(own code)');
    });
  });

  describe('staticClosure', () => {
    it('follows static imports only, never into externals or dynamic imports', () => {
      expect([...staticClosure(metafile, 'functions/publish/index.ts')].sort()).to.deep.equal([
        'functions/publish/index.ts',
        'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js',
        'shared/clients.ts',
        'shared/store.ts',
      ]);
    });
  });

  describe('splitPackages', () => {
    it('puts a package reached only through import() on the lazy side', () => {
      expect(splitPackages(metafile, 'functions/publish/index.ts')).to.deep.equal({
        eager: { '(own code)': 180, '@aws-sdk/client-dynamodb': 8_000 },
        lazy: { '@aws-sdk/client-lambda': 4_000 },
      });
    });

    it('refuses an entry point the metafile did not build', () => {
      expect(() => splitPackages(metafile, 'functions/other/index.ts')).to.throw('no output for entry point');
    });
  });

  describe('describePackages', () => {
    it('lists packages largest first and leaves out small ones', () => {
      expect(describePackages({ a: 2_048, b: 10_240, c: 100 })).to.equal('b (10 KB), a (2 KB)');
      expect(describePackages({ c: 100 })).to.equal('-');
    });
  });
});
