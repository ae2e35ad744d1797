import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'chai';
import { buildStackModel } from '../../../local/cloudformation/stack-model.js';
import { startDynamoDB } from '../../../local/dynamodb/dynalite.js';
import { TEMPLATE } from '../support.js';

describe('local/dynamodb', function () {
  this.timeout(60_000);
  const { tables } = buildStackModel({ templatePath: TEMPLATE });

  it("creates the template's tables, GSIs included, in an in-memory dynalite", async () => {
    const db = await startDynamoDB(tables);
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      const out = await client.send(new DescribeTableCommand({ TableName: 'airwave-local-Table' }));
      expect(out.Table?.TableStatus).to.equal('ACTIVE');
      expect(out.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).to.deep.equal(['byChannel']);
    } finally {
      client.destroy();
      await db.stop();
    }
  });

  it('reuses tables that already exist at another endpoint', async () => {
    const first = await startDynamoDB(tables);
    try {
      const second = await startDynamoDB(tables, first.endpoint);
      expect(second.endpoint).to.equal(first.endpoint);
      await second.stop();
    } finally {
      await first.stop();
    }
  });
});
