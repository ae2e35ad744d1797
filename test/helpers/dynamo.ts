/**
 * dynalite in-process and in memory, with the table created from template.yaml's definition, and
 * the shared library's clients pointed at it.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { setClients } from '../../shared/clients.js';
import { resetConfig } from '../../shared/config.js';
import { loadTemplate } from './template.js';

export interface LocalDynamo {
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

let counter = 0;

export async function startDynamo(env: Record<string, string> = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
  resetConfig();
  setClients({ ddb: doc });
  return {
    endpoint,
    tableName,
    client,
    doc,
    async stop() {
      // Close the client first: its keep-alive sockets would hold the server open for seconds.
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
