/**
 * Loaded by `npm run test:unit` only (test/mocharc.unit.cjs): a unit test must not open a
 * socket or a server, start a process or a worker thread. Each of those throws here, naming
 * the caller, so a file that belongs to the integration run cannot hide in the unit run.
 */
const net = require('node:net');
const childProcess = require('node:child_process');
const workerThreads = require('node:worker_threads');
const { syncBuiltinESMExports } = require('node:module');

/**
 * The one caller let through: esbuild, which tsx uses to compile the test files themselves (its
 * synchronous transform runs in a worker thread that talks to the esbuild binary).
 */
const fromEsbuild = () => /[\\/]node_modules[\\/]esbuild[\\/]/.test(new Error().stack ?? '');

const refuse = (what, original) =>
  function refused(...args) {
    if (fromEsbuild()) return Reflect.apply(original, this, args);
    throw new Error(`${what} in a unit test: move the file out of UNIT in test/suites.cjs`);
  };

net.Socket.prototype.connect = refuse('a socket', net.Socket.prototype.connect);
net.Server.prototype.listen = refuse('a server', net.Server.prototype.listen);
for (const name of ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync']) {
  childProcess[name] = refuse(`child_process.${name}`, childProcess[name]);
}
const { Worker } = workerThreads;
workerThreads.Worker = class GuardedWorker extends Worker {
  constructor(...args) {
    if (!fromEsbuild()) throw new Error('a worker thread in a unit test: move the file out of UNIT in test/suites.cjs');
    super(...args);
  }
};
// ES modules' named imports of builtins read these exports: make them see the replacements.
syncBuiltinESMExports();
