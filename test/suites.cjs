/**
 * Which test file belongs to which run. `npm test` runs every test/**\/*.test.ts; the three
 * runs below split the same files, each file in exactly one (test/suites.test.ts checks it):
 *
 * - unit: pure logic, listed file by file below. No socket, server, child process or worker
 *   thread: test/unit-guard.cjs makes each of those throw during `npm run test:unit`, so a file
 *   listed here by mistake fails at once. Keep the whole run well under 30 s.
 * - e2e: a running local stack or a browser: test/e2e/, and files named *.e2e.test.ts or
 *   *.browser.test.ts anywhere.
 * - integration: everything else (dynalite, the fake @connections endpoint, the local stack's
 *   parts, child processes).
 *
 * A new test file is integration until it is added to UNIT.
 */
const UNIT = [
  'test/bench/cost-model.test.ts',
  'test/bench/lib/control.test.ts',
  'test/bench/lib/fanout-plot.test.ts',
  'test/bench/lib/machine.test.ts',
  'test/bench/lib/sdk-poster.test.ts',
  'test/bench/lib/stack-process.test.ts',
  'test/bench/lib/stats.test.ts',
  'test/bench/lib/subscribers.test.ts',
  'test/bench/lib/svg-chart.test.ts',
  'test/client/backoff.test.ts',
  'test/client/client.chaos.test.ts',
  'test/client/client.connection.test.ts',
  'test/client/client.delivery.test.ts',
  'test/client/client.edges.test.ts',
  'test/client/client.heartbeat.test.ts',
  'test/client/client.rollover.test.ts',
  'test/client/frames.property.test.ts',
  'test/client/sequence.test.ts',
  'test/functions/authorizer.test.ts',
  'test/functions/fanout-hop-chain.test.ts',
  'test/local/apigateway/authorizer.test.ts',
  'test/local/cloudformation/intrinsics.test.ts',
  'test/local/cloudformation/parameters.test.ts',
  'test/local/apigateway/throttle.test.ts',
  'test/local/apigateway/websocket-events.test.ts',
  'test/local/apigateway/websocket-frames.test.ts',
  'test/shared/auth/claims.test.ts',
  'test/shared/auth/verification-keys.test.ts',
  'test/shared/auth/origin.test.ts',
  'test/shared/auth/public-suffix.test.ts',
  'test/shared/auth/request.test.ts',
  'test/shared/auth/settings.test.ts',
  'test/shared/config.test.ts',
  'test/shared/dependencies.test.ts',
  'test/shared/delivery-deadline-pacer.test.ts',
  'test/shared/errors.test.ts',
  'test/shared/fanout-streaming.test.ts',
  'test/shared/flood.test.ts',
  'test/shared/http-response-parser.property.test.ts',
  'test/shared/pacer.test.ts',
  'test/shared/policy.test.ts',
  'test/shared/post-retry.test.ts',
  'test/shared/sigv4.test.ts',
  'test/shared/validate.property.test.ts',
  'test/shared/validate.test.ts',
  'test/suites.test.ts',
  'test/template/checkov.test.ts',
  'test/template/claims.test.ts',
  'test/template/policy.test.ts',
  'test/template/source-maps.test.ts',
];

const E2E = ['test/e2e/**/*.test.ts', 'test/**/*.e2e.test.ts', 'test/**/*.browser.test.ts'];

const ALL = 'test/**/*.test.ts';

module.exports = { UNIT, E2E, ALL };
