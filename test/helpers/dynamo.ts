/**
 * A DynamoDB for tests, with the table created from template.yaml's definition, and the shared
 * library's clients pointed at it.
 *
 * By default dynalite, in-process and in memory. With `AIRWAVE_DYNAMO=moto` the same suites run
 * against moto's server instead (`npm run test:moto`): a second, independent implementation, so
 * behaviour one emulator gets wrong shows up as a difference. `MOTO_SERVER` is the `moto_server`
 * executable (default: `moto_server` on PATH). One moto server serves the whole mocha process
 * (it takes seconds to start); every `startDynamo` gets its own table name, so suites stay apart.
 *
 * Known differences (docs/local-stack.md): moto accepts two writes DynamoDB and dynalite refuse
 * (two operations on one key in a BatchWriteItem, a GSI key of the wrong type), and is about
 * three times slower, hence the longer timeout of `npm run test:moto`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { configure } from '../../shared/dependencies.js';
import { loadTemplate } from './template.js';

export interface LocalDynamo {
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

let counter = 0;

/** Which emulator the suites run against: `AIRWAVE_DYNAMO` (`dynalite`, the default, or `moto`). */
export function dynamoKind(): 'dynalite' | 'moto' {
  const kind = process.env.AIRWAVE_DYNAMO ?? 'dynalite';
  if (kind !== 'dynalite' && kind !== 'moto') throw new Error(`AIRWAVE_DYNAMO must be dynalite or moto, not ${JSON.stringify(kind)}`);
  return kind;
}

export async function startDynamo(env: Record<string, string> = {}): Promise<LocalDynamo> {
  const { endpoint, close } = dynamoKind() === 'moto' ? await motoEndpoint() : await startDynalite();
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const tableName = `airwave-test-${++counter}`;
  const props = loadTemplate().Resources.Table.Properties;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: props.AttributeDefinitions,
      KeySchema: props.KeySchema,
      GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
    }),
  );
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  Object.assign(process.env, { TABLE_NAME: tableName, CHANNEL_INDEX: 'byChannel', ...env });
  configure();
  configure({ clients: { ddb: doc } });
  return {
    endpoint,
    tableName,
    client,
    doc,
    async stop() {
      // Close the client first: its keep-alive sockets would hold the server open for seconds.
      client.destroy();
      await close();
    },
  };
}

async function startDynalite(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let moto: Promise<string> | undefined;

/** The shared moto server's endpoint, started on first use; stopping a suite leaves it running. */
async function motoEndpoint(): Promise<{ endpoint: string; close(): Promise<void> }> {
  moto ??= startMoto();
  return { endpoint: await moto, close: async () => {} };
}

/** How long moto_server may take to answer (it imports every moto backend: seconds on a busy machine). */
const MOTO_START_MS = 60_000;

async function startMoto(): Promise<string> {
  const port = await freePort();
  const executable = process.env.MOTO_SERVER || 'moto_server';
  // The python of moto_server's own environment runs moto's app one request at a time
  // (moto_server_serial.py says why: moto's threaded server is not atomic per item, DynamoDB is).
  const python = executable.includes('/') ? join(dirname(executable), 'python') : 'python3';
  const script = fileURLToPath(new URL('./moto_server_serial.py', import.meta.url));
  const child: ChildProcess = spawn(python, [script, '127.0.0.1', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the start of it for an error message; moto logs every request here afterwards.
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot start ${python} ${script} (set MOTO_SERVER to moto_server's path): ${err.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`${executable} exited with ${code} before answering:\n${stderr}`)));
  });
  exited.catch(() => {});
  // mocha ends with process.exit(): kill the server then, or it outlives the test run.
  process.once('exit', () => child.kill());
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + MOTO_START_MS;
  for (;;) {
    if (await answers(`${endpoint}/moto-api/`)) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${executable} did not answer on ${endpoint} within ${MOTO_START_MS} ms:\n${stderr}`);
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  return endpoint;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** A port free on 127.0.0.1 now (moto_server needs a number; the race with another process binding it is accepted). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
