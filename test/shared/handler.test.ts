import { expect } from 'chai';
import sinon from 'sinon';
import { configure } from '../../shared/dependencies.js';
import { BadRequestError, ForbiddenError, UnknownActionError } from '../../shared/errors.js';
import { frameForError, ipBudgetKey, messageRoute, principalKeyOf } from '../../shared/handler.js';
import { logger } from '../../shared/observability.js';
import type { ConnectionCloser, Poster } from '../../shared/poster.js';
import { pongFrame } from '../../shared/protocol.js';
import { messageEvent } from '../helpers/events.js';
import { frameOf } from '../helpers/stack.js';

const FLOODER = 'L0SM9cOFvHcCIhw=';
const NEIGHBOUR = 'L0SQHfAqoAMCEbA=';
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';

/** A closer that records its calls instead of calling @connections. */
function recordingCloser() {
  const calls: Array<{ op: 'post' | 'delete'; id: string; data?: string }> = [];
  const closer: Poster & ConnectionCloser = {
    async post(id, data) {
      calls.push({ op: 'post', id, data });
      return 'ok';
    },
    async disconnect(id) {
      calls.push({ op: 'delete', id });
      return 'ok';
    },
  };
  return { closer, calls };
}

describe('handler', () => {
  afterEach(() => {
    sinon.restore();
    configure({ clients: { floodCloser: undefined } });
    delete process.env.FRAME_RATE_LIMIT;
    delete process.env.FRAME_BURST_LIMIT;
    configure();
  });

  describe('messageRoute flood limit', () => {
    /** A route that counts its runs and answers pong, limited to a burst of 5 at 10 frames/s. */
    function countingRoute() {
      process.env.FRAME_RATE_LIMIT = '10';
      process.env.FRAME_BURST_LIMIT = '5';
      configure();
      const runs = { count: 0 };
      const handler = messageRoute(async () => {
        runs.count++;
        return pongFrame();
      });
      return { handler, runs };
    }

    it('answers a burst, then posts one flooding frame, closes the connection and answers nothing more', async () => {
      // Prepare
      const { handler, runs } = countingRoute();
      const { closer, calls } = recordingCloser();
      configure({ clients: { floodCloser: closer } });
      const warn = sinon.stub(logger, 'warn');

      // Act
      const results = [];
      for (let i = 0; i < 50; i++) results.push(await handler(messageEvent('ping', { action: 'ping' }, FLOODER)));

      // Assess
      expect(results.slice(0, 5).map(frameOf)).to.deep.equal(Array(5).fill({ type: 'pong' }));
      for (const result of results.slice(5)) expect(result).to.deep.equal({ statusCode: 200 });
      expect(runs.count, 'the route ran for the burst only').to.equal(5);
      expect(calls.map((c) => [c.op, c.id])).to.deep.equal([
        ['post', FLOODER],
        ['delete', FLOODER],
      ]);
      expect(JSON.parse(calls[0].data as string)).to.include({ type: 'error', code: 'flooding' });
      expect(warn.callCount, 'one WARN line for the flood').to.equal(1);
      expect(warn.firstCall.args[1]).to.include({ reason: 'flood', connectionId: FLOODER, route: 'ping' });
    });

    it('keeps answering another connection while one floods', async () => {
      const { handler } = countingRoute();
      configure({ clients: { floodCloser: recordingCloser().closer } });
      sinon.stub(logger, 'warn');
      for (let i = 0; i < 20; i++) await handler(messageEvent('ping', { action: 'ping' }, FLOODER));
      expect(frameOf(await handler(messageEvent('ping', { action: 'ping' }, NEIGHBOUR)))).to.deep.equal({ type: 'pong' });
    });

    it('never cuts a client that stays at the sustained rate', async () => {
      const clock = sinon.useFakeTimers({ now: 0, toFake: ['performance'] });
      const { handler, runs } = countingRoute();
      const { closer, calls } = recordingCloser();
      configure({ clients: { floodCloser: closer } });
      for (let i = 0; i < 100; i++) {
        await handler(messageEvent('ping', { action: 'ping' }, FLOODER));
        clock.tick(100);
      }
      expect(runs.count).to.equal(100);
      expect(calls).to.deep.equal([]);
    });

    it('is off with FrameRateLimit=0', async () => {
      const { handler, runs } = countingRoute();
      process.env.FRAME_RATE_LIMIT = '0';
      configure();
      for (let i = 0; i < 200; i++) await handler(messageEvent('ping', { action: 'ping' }, FLOODER));
      expect(runs.count).to.equal(200);
    });

    it('lets a later frame try the close again when the DELETE failed', async () => {
      const clock = sinon.useFakeTimers({ now: 0, toFake: ['performance'] });
      const { handler } = countingRoute();
      let deletes = 0;
      configure({ clients: { floodCloser: { post: async () => 'ok', disconnect: async () => (++deletes === 1 ? 'failed' : 'ok') } } });
      sinon.stub(logger, 'warn');
      sinon.stub(logger, 'error');
      for (let i = 0; i < 10; i++) await handler(messageEvent('ping', { action: 'ping' }, FLOODER));
      expect(deletes).to.equal(1);
      clock.tick(1_000);
      for (let i = 0; i < 20; i++) await handler(messageEvent('ping', { action: 'ping' }, FLOODER));
      expect(deletes).to.equal(2);
    });
  });

  describe('refusal logging', () => {
    it('logs one WARN line per refused frame, with its code and route, never the frame body or a token', async () => {
      // Prepare
      const warn = sinon.stub(logger, 'warn');
      const handler = messageRoute(async (ctx) => {
        throw new UnknownActionError(ctx.body().action);
      });
      const event = messageEvent('$default', { action: 'secret-looking-action', token: TOKEN });

      // Act
      const frame = frameOf(await handler(event));

      // Assess
      expect(frame.code).to.equal('unknown_action');
      expect(warn.callCount).to.equal(1);
      expect(warn.firstCall.args[1]).to.deep.equal({ reason: 'unknown_action', code: 'unknown_action', route: '$default' });
      const logged = JSON.stringify(warn.firstCall.args);
      expect(logged).to.not.include(TOKEN).and.not.include('secret-looking-action');
    });

    it('logs refusals of every kind at WARN', () => {
      const warn = sinon.stub(logger, 'warn');
      for (const error of [new BadRequestError('"message" is required'), new ForbiddenError('news', 'join')])
        frameForError(error, 'joinchannel');
      const logged = warn.getCalls().map((c) => c.args[1] as Record<string, unknown>);
      expect(logged.map((l) => l.code)).to.deep.equal(['bad_request', 'forbidden']);
      expect(logged.map((l) => l.route)).to.deep.equal(['joinchannel', 'joinchannel']);
    });

    it('logs an internal failure at ERROR, not as a refusal, and answers internal_error', async () => {
      const warn = sinon.stub(logger, 'warn');
      const error = sinon.stub(logger, 'error');
      const handler = messageRoute(async () => {
        throw new Error('database password is hunter2');
      });
      expect(frameOf(await handler(messageEvent('ping', { action: 'ping' }, NEIGHBOUR)))).to.deep.equal({
        type: 'error',
        code: 'internal_error',
        message: 'internal error',
      });
      expect(warn.callCount).to.equal(0);
      expect(error.callCount).to.equal(1);
    });
  });
});

describe('principal budget keys', () => {
  const rights = { principal: 'alice', join: [], publish: [] };

  it('is the token subject with AuthMode=jwt and the source address with AuthMode=none', () => {
    expect(principalKeyOf('jwt', rights, '203.0.113.7')).to.equal('sub#alice');
    expect(principalKeyOf('none', rights, '203.0.113.7')).to.equal('ip#203.0.113.7');
    expect(principalKeyOf('none', rights, undefined)).to.equal('ip#unknown');
  });

  it('groups IPv6 addresses by /64, however they are written (one line holds a whole /64)', () => {
    const key = ipBudgetKey('2001:db8:85a3:8d3:1319:8a2e:370:7348');
    expect(key).to.equal('2001:db8:85a3:8d3::/64');
    expect(ipBudgetKey('2001:DB8:85A3:08D3::1')).to.equal(key);
    expect(ipBudgetKey('2001:db8:85a3:8d3:ffff::')).to.equal(key);
    expect(ipBudgetKey('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(ipBudgetKey('::1')).to.equal('0:0:0:0::/64');
    expect(ipBudgetKey('2001:db8:85a3:8d4::1')).to.not.equal(key);
  });
});
