import { expect } from 'chai';
import { DEFAULT_PORT, parseCliArgs } from '../../../local/cli/options.js';
import { ParameterError, UsageError } from '../../../local/errors.js';

describe('local/cli/options', () => {
  describe('parseCliArgs', () => {
    it('defaults the port to PORT, else 3001', () => {
      expect(parseCliArgs([]).stack.port).to.equal(DEFAULT_PORT);
      expect(parseCliArgs([], { PORT: '4000' }).stack.port).to.equal(4000);
      expect(parseCliArgs(['--port', '0'], { PORT: '4000' }).stack.port).to.equal(0);
    });

    it('reads --parameter-overrides as sam deploy does, up to the next option', () => {
      const { stack } = parseCliArgs(['--port', '3001', '--parameter-overrides', 'AllowedOrigins=*', 'AuthMode=none', '--stage', 'test']);
      expect(stack.parameterOverrides).to.deep.equal({ AllowedOrigins: '*', AuthMode: 'none' });
      expect(stack.stage).to.equal('test');
      expect(parseCliArgs(['--parameter-overrides', 'AllowedOrigins=* AuthMode=none']).stack.parameterOverrides).to.deep.equal({
        AllowedOrigins: '*',
        AuthMode: 'none',
      });
    });

    it('reads every option, in --opt value and --opt=value forms', () => {
      const { stack } = parseCliArgs([
        '--template=t.yaml',
        '--idle-seconds',
        '2',
        '--max-connection-seconds=5',
        '--post-latency-ms',
        '30',
        '--throttle-rps',
        '100',
        '--throttle-burst',
        '50',
        '--connect-rate',
        '0',
        '--connect-burst=20',
        '--dynamodb-endpoint',
        'http://127.0.0.1:8000',
        '--stack-name',
        's',
        '--built',
      ]);
      expect(stack).to.deep.include({
        templatePath: 't.yaml',
        idleSeconds: 2,
        maxConnectionSeconds: 5,
        postLatencyMs: 30,
        throttleRps: 100,
        throttleBurst: 50,
        connectRate: 0,
        connectBurst: 20,
        dynamodbEndpoint: 'http://127.0.0.1:8000',
        stackName: 's',
        built: true,
      });
      expect(parseCliArgs(['--built', 'out/build']).stack.built).to.equal('out/build');
    });

    it('refuses unknown options, missing values and bad numbers', () => {
      expect(() => parseCliArgs(['--bogus'])).to.throw(UsageError, 'unknown option --bogus');
      expect(() => parseCliArgs(['--port'])).to.throw(UsageError, '--port needs a value');
      expect(() => parseCliArgs(['--port', '70000'])).to.throw(UsageError, 'must be a port number');
      expect(() => parseCliArgs(['--idle-seconds', '-1'])).to.throw(UsageError, 'non-negative number');
      expect(() => parseCliArgs(['--parameter-overrides', 'oops'])).to.throw(ParameterError);
    });

    it('asks for help', () => {
      expect(parseCliArgs(['--help']).help).to.equal(true);
      expect(parseCliArgs(['-h']).help).to.equal(true);
    });
  });
});
