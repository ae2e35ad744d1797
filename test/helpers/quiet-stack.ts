/**
 * The local stack as the e2e tests of faults, storms and retries run it (test/e2e/faults*.ts,
 * connect-storm, publish-idempotency): template.yaml with AuthMode=none and no DefaultChannel, so
 * a client joins only the channels it names; the stack's and the functions' output silenced,
 * since these tests read frames, answers and stored state.
 */
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';

/** Powertools' log lines and metrics documents off in every function. */
const SILENT_FUNCTIONS = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

/**
 * Starts the stack; `options.parameterOverrides` and `options.environment` go over the defaults
 * above, every other option is passed as given.
 */
export function startQuietStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    log: () => {},
    functionLog: () => {},
    ...options,
    parameterOverrides: { AuthMode: 'none', DefaultChannel: '', ...options.parameterOverrides },
    environment: { ...SILENT_FUNCTIONS, ...options.environment },
  });
}

/** PublishFunction's answer to `payload`, invoked through the stack's Lambda Invoke API (a backend's publish). */
export async function invokePublish<T = Record<string, unknown>>(stack: LocalStack, payload: unknown): Promise<T> {
  const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
    method: 'POST',
    body: JSON.stringify(payload),
  });
  return (await res.json()) as T;
}
