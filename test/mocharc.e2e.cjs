/** `npm run test:e2e`: the local stack and browser runs (test/suites.cjs). */
const base = require('../.mocharc.json');
const { E2E } = require('./suites.cjs');

module.exports = { ...base, spec: E2E };
