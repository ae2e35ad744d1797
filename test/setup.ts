/**
 * Mocha root setup: quiet Powertools (logs and EMF would drown the test output) unless
 * AIRWAVE_TEST_LOGS is set, and dummy credentials so no SDK client looks for real ones.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.AIRWAVE_TEST_LOGS ? 'DEBUG' : 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= process.env.AIRWAVE_TEST_LOGS ? 'false' : 'true';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
