import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'chai';
import { eventually, startTestStack, TestClient, type TestStack } from '../support.js';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (payload?: Uint8Array) => JSON.parse(new TextDecoder().decode(payload));

describe('local/lambda/invoke-api', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let lambda: LambdaClient;
  let client: TestClient;

  before(async () => {
    stack = await startTestStack();
    lambda = new LambdaClient({ endpoint: stack.httpUrl, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    client = await TestClient.connect(`${stack.url}?channels=announcements`);
  });
  after(async () => {
    client.close();
    lambda.destroy();
    await stack.stop();
  });

  it("delivers to the channel's members when PublishFunction is invoked over plain HTTP", async () => {
    const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ channel: 'announcements', message: { text: 'over http' } }),
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-amz-function-error')).to.equal(null);
    expect(await res.json()).to.deep.include({ delivered: 1, gone: 0, failed: 0 });
    const frame = await client.waitFor((f) => f.type === 'message' && (f.message as { text?: string })?.text === 'over http', 'delivery');
    expect(frame.channel).to.equal('announcements');
  });

  it("works with the SDK's InvokeCommand by logical id, function name and ARN", async () => {
    const names = [
      'PublishFunction',
      'airwave-local-PublishFunction',
      'arn:aws:lambda:us-east-1:123456789012:function:airwave-local-PublishFunction',
    ];
    for (const [i, FunctionName] of names.entries()) {
      const out = await lambda.send(new InvokeCommand({ FunctionName, Payload: json({ channel: 'announcements', message: `sdk ${i}` }) }));
      expect(out.StatusCode).to.equal(200);
      expect(out.FunctionError).to.equal(undefined);
      expect(parse(out.Payload)).to.deep.include({ delivered: 1 });
    }
    await client.waitFor((f) => f.message === 'sdk 2', 'the third delivery');
  });

  it("reports a function error with X-Amz-Function-Error and Lambda's error payload", async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'PublishFunction', Payload: json({ channel: 'announcements' }) }));
    expect(out.StatusCode).to.equal(200);
    expect(out.FunctionError).to.equal('Unhandled');
    expect(parse(out.Payload)).to.deep.include({ errorType: 'BadRequestError', errorMessage: '"message" or "messages" is required' });
  });

  it('answers 202 at once to an Event invocation and runs it in the background', async () => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'PublishFunction',
        InvocationType: 'Event',
        Payload: json({ channel: 'announcements', message: 'async' }),
      }),
    );
    expect(out.StatusCode).to.equal(202);
    await client.waitFor((f) => f.message === 'async', 'the asynchronous delivery');
  });

  it('retries a failing Event invocation twice, as Lambda does', async () => {
    const before = stack.runtime.stats().PublishFunction.errors;
    const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, {
      method: 'POST',
      headers: { 'X-Amz-Invocation-Type': 'Event' },
      body: '{"channel":"announcements"}',
    });
    expect(res.status).to.equal(202);
    await eventually(() => stack.runtime.stats().PublishFunction.errors === before + 3, 'three attempts');
  });

  it('answers 404 ResourceNotFoundException for a function the template does not have', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'NoSuchFunction' })).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).to.equal('ResourceNotFoundException');
  });

  it('answers 400 InvalidRequestContentException to a payload that is not JSON', async () => {
    const res = await fetch(`${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`, { method: 'POST', body: 'not json' });
    expect(res.status).to.equal(400);
    expect(res.headers.get('x-amzn-errortype')).to.equal('InvalidRequestContentException');
  });
});
