/** `npm run test:integration`: every test file that is neither unit nor end-to-end (test/suites.cjs). */
const base = require('../.mocharc.json');
const { ALL, E2E, UNIT } = require('./suites.cjs');

module.exports = { ...base, spec: [ALL], ignore: [...UNIT, ...E2E] };
