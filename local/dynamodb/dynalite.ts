/**
 * The local DynamoDB: dynalite, in memory, in its own worker thread (so its CPU time does not
 * compete with the WebSocket API on the main thread), with the template's tables created from
 * their definitions. `endpoint` uses another DynamoDB instead (DynamoDB Local, a shared dynalite)
 * and creates the tables there unless they already exist.
 *
 * Not emulated (dynalite lacks them): TTL expiry (items never expire: readers filter on `ttl`
 * anyway), transactions and PartiQL.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, type CreateTableCommandInput, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TableModel } from '../cloudformation/stack-model.js';
import { LocalStackError } from '../errors.js';

/** A running DynamoDB endpoint with the template's tables. */
export interface LocalDynamoDB {
  endpoint: string;
  stop(): Promise<void>;
}

/** How long a new table may stay CREATING before the stack gives up. */
const TABLE_ACTIVE_TIMEOUT_MS = 30_000;
const TABLE_POLL_MS = 50;

const DYNALITE_PATH = createRequire(import.meta.url).resolve('dynalite');

/**
 * CommonJS; TypeScript (through tsx) only for the request guard. dynalite answers every origin
 * (`Access-Control-Allow-Origin: *`, any preflight allowed), so without the guard any web page
 * that finds its port could read and write the tables: it gets the stack's own rules
 * (loopback-guard.ts), and each refusal goes to the main thread to be logged.
 */
const DYNALITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
import(workerData.tsxApi)
  .then((tsx) => { tsx.register(); return import(workerData.guard); })
  .then(({ checkRequest, loggable }) => {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const handlers = server.listeners('request');
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      const refused = checkRequest(req, true);
      if (!refused) return handlers.forEach((handler) => handler.call(server, req, res));
      parentPort.postMessage({ warn: 'WARN refused DynamoDB ' + req.method + ': ' + refused.reason + ' (Host ' + loggable(req.headers.host) + ', Origin ' + loggable(req.headers.origin) + ', Sec-Fetch-Site ' + loggable(req.headers['sec-fetch-site']) + ')' });
      const body = JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: refused.message });
      res.writeHead(403, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
    });
    server.on('error', (error) => parentPort.postMessage({ error: String(error && error.message) }));
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
  })
  .catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;
const TSX_API = import.meta.resolve('tsx/esm/api');
const GUARD = new URL('../loopback-guard.ts', import.meta.url).href;

function startDynalite(log: (line: string) => void): Promise<{ endpoint: string; worker: Worker }> {
  const worker = new Worker(DYNALITE_WORKER, {
    eval: true,
    workerData: { dynalite: DYNALITE_PATH, tsxApi: TSX_API, guard: GUARD },
    execArgv: [],
  });
  worker.on('message', (m: { warn?: string }) => {
    if (m.warn) log(m.warn);
  });
  return new Promise((resolve, reject) => {
    worker.on('message', (m: { port?: number; error?: string }) => {
      if (m.port) resolve({ endpoint: `http://127.0.0.1:${m.port}`, worker });
      else if (m.error) reject(new LocalStackError(`dynalite did not start: ${m.error}`));
    });
    worker.once('error', (error) => reject(new LocalStackError(`dynalite did not start: ${error.message}`, { cause: error })));
  });
}

/** Creates a table unless it exists, then waits until it is ACTIVE. */
async function ensureTable(client: DynamoDBClient, table: TableModel): Promise<void> {
  try {
    await client.send(new CreateTableCommand(table.definition as unknown as CreateTableCommandInput));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') {
      throw new LocalStackError(`cannot create table ${table.name} (Resources.${table.logicalId}): ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const out = await client.send(new DescribeTableCommand({ TableName: table.name }));
    const indexesActive = (out.Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (out.Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline)
      throw new LocalStackError(`table ${table.name} is still ${out.Table?.TableStatus} after ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, TABLE_POLL_MS));
  }
}

/** Starts dynalite (or uses `endpoint`) and creates `tables` in it; `log` gets dynalite's refusals. */
export async function startDynamoDB(
  tables: TableModel[],
  endpoint?: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<LocalDynamoDB> {
  const started = endpoint ? undefined : await startDynalite(log);
  const url = endpoint ?? (started as { endpoint: string }).endpoint;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    for (const table of tables) await ensureTable(client, table);
  } catch (error) {
    await started?.worker.terminate();
    throw error;
  } finally {
    // Destroy the client before anything closes: its keep-alive sockets would hold dynalite open.
    client.destroy();
  }
  return {
    endpoint: url,
    async stop() {
      await started?.worker.terminate();
    },
  };
}
