/** `npm run invoke`: see scripts/lib/invoke.ts and `npm run invoke -- --help`. */
import { runScript } from './lib/flags.js';
import { envOverrides, functionFor, modelFor, parseInvokeArgs, readJson, USAGE } from './lib/invoke.js';

async function main(): Promise<number> {
  const request = parseInvokeArgs(process.argv.slice(2));
  if (!request) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Everything the user can get wrong is checked before anything starts.
  const model = modelFor(request);
  const fn = functionFor(model, request.functionRef);
  const event = readJson(request.eventPath, 'event file');
  const env = request.envVarsPath
    ? envOverrides(model, readJson(request.envVarsPath, 'env-vars file'), fn, request.envVarsPath)
    : undefined;
  const note = (line: string) => process.stderr.write(`invoke: ${line}\n`);
  if (env?.undeclared.length)
    note(
      `--env-vars: ${env.undeclared.join(', ')} not set: not declared for ${fn.logicalId} in the template (SAM CLI ignores such variables too)`,
    );
  if (env?.wired.length) note(`--env-vars: ${env.wired.join(', ')} kept: they name this run's own table, endpoint or functions`);

  process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
  const { startLocalStack } = await import('../local/stack.js');
  const stack = await startLocalStack({
    port: 0,
    templatePath: request.templatePath,
    parameterOverrides: request.parameterOverrides,
    stackName: request.stackName,
    dynamodbEndpoint: request.dynamodbEndpoint,
    jwtDevSecret: process.env.JWT_DEV_SECRET || undefined,
    functionEnvironment: env?.byFunction,
    log: (line) => note(line),
    functionLog: (id, line) => process.stderr.write(`[${id}] ${line}\n`),
  });
  let result: Awaited<ReturnType<typeof stack.runtime.invoke>>;
  try {
    result = await stack.runtime.invoke(fn.logicalId, event);
  } finally {
    // Waits for asynchronous invocations the function started (a fan-out), then stops.
    await stack.stop();
  }
  let shown: string;
  try {
    shown = JSON.stringify(JSON.parse(result.payload), null, 2);
  } catch {
    shown = result.payload;
  }
  await new Promise((resolve) => process.stdout.write(`${shown}\n`, resolve));
  if (!result.ok) note(`${fn.logicalId} failed: ${result.error?.errorType ?? 'error'} (request ${result.requestId})`);
  return result.ok ? 0 : 1;
}

runScript(main);
