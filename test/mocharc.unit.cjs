/** `npm run test:unit`: the pure-logic files of test/suites.cjs, with sockets and processes refused. */
const base = require('../.mocharc.json');
const { UNIT } = require('./suites.cjs');

module.exports = { ...base, require: [...base.require, 'test/unit-guard.cjs'], spec: UNIT };
