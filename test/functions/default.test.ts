import { expect } from 'chai';
import { handler } from '../../functions/default/index.js';
import { loadEvent, messageEvent } from '../helpers/events.js';
import { frameOf } from '../helpers/stack.js';

describe('functions/default', () => {
  it('answers an unknown action with an unknown_action error frame', async () => {
    const frame = frameOf(await handler(loadEvent('default')));
    expect(frame).to.deep.equal({ type: 'error', code: 'unknown_action', message: 'unknown action "shout"' });
  });

  for (const [label, body, code] of [
    ['text that is not JSON', 'hello', 'bad_json'],
    ['a JSON array', '[1,2]', 'bad_json'],
    ['a JSON string', '"joinchannel"', 'bad_json'],
    ['truncated JSON', '{"action":', 'bad_json'],
    ['an object with no action', '{"channel":"x"}', 'unknown_action'],
    ['a non-string action', '{"action":42}', 'unknown_action'],
    ['a prototype-pollution key', '{"action":"x","__proto__":{"admin":true}}', 'bad_request'],
  ] as const) {
    it(`answers ${label} with ${code}`, async () => {
      const frame = frameOf(await handler(messageEvent('$default', body)));
      expect(frame.type).to.equal('error');
      expect(frame.code).to.equal(code);
      expect(frame).to.not.have.property('stack');
    });
  }

  it('answers a binary frame with bad_json', async () => {
    const event = messageEvent('$default', 'AAEC');
    event.isBase64Encoded = true;
    expect(frameOf(await handler(event)).code).to.equal('bad_json');
  });
});
