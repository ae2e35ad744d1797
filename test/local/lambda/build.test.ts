import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildStackModel } from '../../../local/cloudformation/stack-model.js';
import { buildFunctions, esbuildOptions } from '../../../local/lambda/build.js';
import { startTestStack, TEMPLATE, TestClient, type TestStack } from '../support.js';

describe('local/build', function () {
  this.timeout(300_000);
  const model = buildStackModel({ templatePath: TEMPLATE });

  describe('esbuildOptions', () => {
    it("takes a function's BuildProperties as sam build does", () => {
      const options = esbuildOptions(model.functions.ConnectFunction, '/out');
      expect(options).to.deep.include({
        outdir: '/out/ConnectFunction',
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        minify: true,
        sourcemap: true,
        outExtension: { '.js': '.mjs' },
      });
      expect(options.entryPoints).to.deep.equal([model.functions.ConnectFunction.sourceEntry]);
      expect(options.banner?.js).to.include('createRequire');
    });
  });

  describe('the local stack on built bundles (what deploys)', () => {
    let buildDir: string;
    let stack: TestStack;

    before(async () => {
      buildDir = mkdtempSync(join(tmpdir(), 'airwave-build-'));
      await buildFunctions(model, buildDir);
      stack = await startTestStack({ built: buildDir });
    });
    after(async () => {
      await stack?.stop();
      rmSync(buildDir, { recursive: true, force: true });
    });

    it('runs every function from its bundle', () => {
      for (const id of Object.keys(model.functions)) {
        expect(stack.code[id]).to.equal(join(buildDir, id, 'index.mjs'));
        expect(existsSync(stack.code[id])).to.equal(true);
      }
    });

    it('serves the join, send and publish flow from the bundles', async () => {
      const [alice, bob] = await Promise.all([TestClient.connect(stack.url), TestClient.connect(stack.url)]);
      for (const client of [alice, bob]) client.send({ action: 'joinchannel', channel: 'built' });
      await Promise.all([alice, bob].map((c) => c.waitFor((f) => f.type === 'joined', 'join ack')));
      bob.send({ action: 'sendmessage', channel: 'built', message: 'from a bundle' });
      await alice.waitFor((f) => f.type === 'message' && f.message === 'from a bundle', 'delivery');
      const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
        method: 'POST',
        body: JSON.stringify({ channel: 'built', message: 'published' }),
      });
      expect(await res.json()).to.deep.include({ delivered: 2 });
      await Promise.all([alice, bob].map((c) => c.waitFor((f) => f.message === 'published', 'publish delivery')));
      alice.close();
      bob.close();
    });
  });
});
