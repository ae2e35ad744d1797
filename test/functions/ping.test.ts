import { expect } from 'chai';
import { handler } from '../../functions/ping/index.js';
import { loadEvent } from '../helpers/events.js';
import { frameOf } from '../helpers/stack.js';

describe('functions/ping', () => {
  it('answers pong', async () => {
    expect(frameOf(await handler(loadEvent('ping')))).to.deep.equal({ type: 'pong' });
  });
});
