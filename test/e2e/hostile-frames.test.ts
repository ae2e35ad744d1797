/**
 * Hostile frames against the running local stack: each is answered with an error frame with a
 * stable code, the connection stays usable, nothing is delivered to anyone, no internal detail
 * leaks, and the stack is alive afterwards.
 */
import { expect } from 'chai';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { openClient, sleep, type TestClient } from '../helpers/ws-client.js';

const CASES: Array<[string, string, string]> = [
  ['text that is not JSON', 'hello there', 'bad_json'],
  ['a JSON array', '[{"action":"sendmessage"}]', 'bad_json'],
  ['a JSON number', '42', 'bad_json'],
  ['an unknown action', '{"action":"rm -rf"}', 'unknown_action'],
  ['a non-string action', '{"action":{"x":1}}', 'unknown_action'],
  ['a join without channel', '{"action":"joinchannel"}', 'invalid_channel'],
  ['a join with an empty channel', '{"action":"joinchannel","channel":""}', 'invalid_channel'],
  ['a join with a huge channel', `{"action":"joinchannel","channel":"${'x'.repeat(5000)}"}`, 'invalid_channel'],
  ['a join with a control character', '{"action":"joinchannel","channel":"a\\u0007b"}', 'invalid_channel'],
  ['a join with a numeric channel', '{"action":"joinchannel","channel":12}', 'invalid_channel'],
  ['a send with an array channel', '{"action":"sendmessage","channel":["room"],"message":1}', 'invalid_channel'],
  ['a send without message', '{"action":"sendmessage","channel":"room"}', 'bad_request'],
  ['a __proto__ key', '{"action":"sendmessage","channel":"room","message":{"__proto__":{"isAdmin":true}}}', 'bad_request'],
  ['a constructor key', '{"action":"sendmessage","channel":"room","message":{"constructor":{"prototype":{}}}}', 'bad_request'],
  ['a 5,000-deep message', `{"action":"sendmessage","channel":"room","message":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'bad_request'],
  ['an oversize message', `{"action":"sendmessage","channel":"room","message":"${'x'.repeat(20_000)}"}`, 'message_too_large'],
  ['a fractional since', '{"action":"joinchannel","channel":"room","since":0.5}', 'bad_request'],
];

describe('hostile frames end to end', function () {
  this.timeout(60_000);
  let stack: LocalStack;
  let attacker: TestClient;
  let observer: TestClient;

  before(async () => {
    stack = await startLocalStack({
      parameterOverrides: { AuthMode: 'none', MaxMessageBytes: '16384' },
      environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => {},
      functionLog: () => {},
    });
    attacker = await openClient(`${stack.url}?channels=room`);
    observer = await openClient(`${stack.url}?channels=room`);
  });
  after(async () => {
    await attacker?.close();
    await observer?.close();
    await stack?.stop();
  });

  for (const [label, text, code] of CASES) {
    it(`answers ${label} with ${code} and keeps the connection usable`, async () => {
      attacker.sendRaw(text);
      const frame = await attacker.next((f) => f.type === 'error', 10_000);
      expect(frame.code).to.equal(code);
      expect(Object.keys(frame).sort()).to.include.members(['code', 'message', 'type']);
      expect(JSON.stringify(frame)).to.not.match(/at .*\.(ts|js|mjs):\d+|Error:|stack/);
      attacker.send({ action: 'ping' });
      expect(await attacker.next((f) => f.type === 'pong')).to.deep.equal({ type: 'pong' });
    });
  }

  it('delivered nothing to the other member of the channel, and the stack still serves a real message', async () => {
    await sleep(300);
    expect(observer.frames).to.deep.equal([]);
    attacker.send({ action: 'sendmessage', channel: 'room', message: 'legit' });
    expect(await observer.next((f) => f.type === 'message')).to.include({ channel: 'room', message: 'legit' });
  });

  it('closes a frame over 32 KB with 1009, as API Gateway does, and keeps serving others', async () => {
    const big = await openClient(stack.url);
    const code = await new Promise<number>((resolve) => {
      big.ws.once('close', (c) => resolve(c));
      big.sendRaw(`{"action":"sendmessage","message":"${'y'.repeat(40_000)}"}`);
    });
    expect(code).to.equal(1009);
    observer.send({ action: 'ping' });
    expect(await observer.next((f) => f.type === 'pong')).to.deep.equal({ type: 'pong' });
  });
});
