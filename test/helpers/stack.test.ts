import { expect } from 'chai';
import { startBackend } from './stack.js';

describe('test helper startBackend', () => {
  it('restores the variables it changed on stop, instead of deleting them', async () => {
    const before = { FRAME_RATE_LIMIT: process.env.FRAME_RATE_LIMIT, TABLE_NAME: process.env.TABLE_NAME };
    process.env.FRAME_RATE_LIMIT = '7';
    process.env.TABLE_NAME = 'outer-table';
    try {
      const backend = await startBackend({ FRAME_RATE_LIMIT: '99' });
      expect(process.env.FRAME_RATE_LIMIT).to.equal('99');
      expect(process.env.TABLE_NAME).to.equal(backend.db.tableName);
      await backend.stop();
      expect(process.env.FRAME_RATE_LIMIT).to.equal('7');
      expect(process.env.TABLE_NAME).to.equal('outer-table');
    } finally {
      for (const [key, value] of Object.entries(before)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
