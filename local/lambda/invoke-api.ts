/**
 * Lambda's Invoke API for every function of the template, on the same port, as
 * `sam local start-lambda` offers it for other APIs: `POST /2015-03-31/functions/{name}/invocations`
 * where name is the logical id (`PublishFunction`), the function name (`airwave-local-PublishFunction`)
 * or an ARN ending in it. So `aws lambda invoke --endpoint-url http://127.0.0.1:<port>`, the SDK's
 * `InvokeCommand`, and functions invoking each other (AWS_ENDPOINT_URL_LAMBDA) all work.
 *
 * Unsigned requests and any content type are accepted. `X-Amz-Invocation-Type`:
 * `RequestResponse` (the default: 200 with the result, `X-Amz-Function-Error: Unhandled` and
 * Lambda's error payload on failure), `Event` (202 at once; run in the background and retried
 * on error as the function's EventInvokeConfig says (twice by default), with short local
 * delays), `DryRun` (204).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { newLambdaRequestId } from '../apigateway/ids.js';
import { BodyTooLargeError, readBody, sendAwsError } from '../http.js';
import { type FunctionModel, findFunction } from './function-model.js';
import type { LambdaRuntime } from './runtime.js';

/** Lambda's payload limits for Invoke: 6 MB synchronous, 1 MB asynchronous (InvocationType Event). */
export const SYNC_PAYLOAD_MAX_BYTES = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_MAX_BYTES = 1024 * 1024;
/**
 * Delays before the retries of a failed asynchronous invocation (as many as the function's
 * EventInvokeConfig allows, 2 by default). Lambda waits about 1 then 2 minutes; locally
 * seconds, so a retried event is seen while developing.
 */
export const ASYNC_RETRY_DELAYS_MS = [1_000, 2_000];

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Settings of the Invoke API. */
export interface LambdaInvokeApiOptions {
  functions: Record<string, FunctionModel>;
  runtime: LambdaRuntime;
  region: string;
  accountId: string;
  log(line: string): void;
}

/** Serves Lambda's Invoke API. */
export class LambdaInvokeApi {
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly options: LambdaInvokeApiOptions) {}

  /** True for Invoke API paths. */
  servesPath(pathname: string): boolean {
    return PATH.test(pathname);
  }

  /** Stops scheduling retries; waits for asynchronous invocations already running. */
  async stop(): Promise<void> {
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    await Promise.allSettled([...this.background]);
  }

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      return sendAwsError(
        res,
        400,
        'InvalidParameterValueException',
        `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not ${type}`,
      );
    }
    if (req.method !== 'POST') return sendAwsError(res, 405, 'MethodNotAllowedException', 'Invoke takes POST');
    let body: Buffer;
    try {
      body = await readBody(req, type === 'Event' ? ASYNC_PAYLOAD_MAX_BYTES : SYNC_PAYLOAD_MAX_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return sendAwsError(
        res,
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${error.limit} bytes for the ${type} invocation type`,
      );
    }
    const name = decodeURIComponent((PATH.exec(pathname) as RegExpExecArray)[1]);
    const fn = findFunction(this.options.functions, name);
    if (!fn) {
      const arn = `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${name}`;
      return sendAwsError(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    }
    let event: unknown;
    try {
      // An empty payload is `{}` to the function, as with `aws lambda invoke` and no --payload.
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return sendAwsError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const requestId = newLambdaRequestId();
    const headers = { 'x-amzn-RequestId': requestId, 'X-Amz-Executed-Version': '$LATEST' };
    if (type === 'DryRun') return void res.writeHead(204, headers).end();
    if (type === 'Event') {
      res.writeHead(202, { ...headers, 'content-length': 0 }).end();
      return this.runAsync(fn, event, requestId, 0);
    }
    const result = await this.options.runtime.invoke(fn.logicalId, event, requestId);
    const errorHeader: Record<string, string> = result.ok ? {} : { 'X-Amz-Function-Error': 'Unhandled' };
    res.writeHead(200, {
      ...headers,
      ...errorHeader,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(result.payload),
    });
    res.end(result.payload);
  }

  private runAsync(fn: FunctionModel, event: unknown, requestId: string, attempt: number): void {
    const run = this.options.runtime.invoke(fn.logicalId, event, requestId).then((result) => {
      if (result.ok) return;
      const retry = attempt < fn.asyncRetries;
      this.options.log(
        `${fn.logicalId} (Event ${requestId}, attempt ${attempt + 1}): ${result.error?.errorType}: ${result.error?.errorMessage}${retry ? ' - will retry' : ''}`,
      );
      if (!retry) return;
      const timer = setTimeout(
        () => {
          this.retries.delete(timer);
          this.runAsync(fn, event, requestId, attempt + 1);
        },
        ASYNC_RETRY_DELAYS_MS[Math.min(attempt, ASYNC_RETRY_DELAYS_MS.length - 1)],
      );
      this.retries.add(timer);
    });
    const tracked: Promise<unknown> = run.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}
