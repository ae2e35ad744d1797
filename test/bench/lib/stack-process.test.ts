import { expect } from 'chai';
import { parseReadyLine, stackArgs } from '../../../bench/lib/stack-process.js';

describe('bench/lib/stack-process', () => {
  describe('stackArgs', () => {
    it('asks for a free port and passes the emulated AWS model', () => {
      expect(stackArgs({ postLatencyMs: 15, throttleRps: 10_000, throttleBurst: 5_000 })).to.deep.equal([
        '--port',
        '0',
        '--post-latency-ms',
        '15',
        '--throttle-rps',
        '10000',
        '--throttle-burst',
        '5000',
      ]);
    });

    it('passes parameter overrides as sam deploy takes them, and a build directory', () => {
      expect(stackArgs({ parameterOverrides: { AuthMode: 'none', FanoutBatchSize: '5000' }, built: 'dist' })).to.deep.equal([
        '--port',
        '0',
        '--built',
        'dist',
        '--parameter-overrides',
        'AuthMode=none',
        'FanoutBatchSize=5000',
      ]);
    });
  });

  describe('parseReadyLine', () => {
    it('finds the WebSocket URL of the ready line', () => {
      expect(parseReadyLine('Local stack ready: ws://127.0.0.1:40123/dev')).to.equal('ws://127.0.0.1:40123/dev');
    });

    it('ignores every other line', () => {
      expect(parseReadyLine('  @connections   http://127.0.0.1:40123/dev/@connections')).to.equal(undefined);
      expect(parseReadyLine('[PublishFunction] Local stack ready: ws://x')).to.equal(undefined);
    });
  });
});
