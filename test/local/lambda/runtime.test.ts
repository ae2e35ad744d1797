import { expect } from 'chai';
import type { FunctionModel } from '../../../local/lambda/function-model.js';
import { LambdaRuntime } from '../../../local/lambda/runtime.js';
import { TemplateCopy } from '../support.js';

const FILES: Record<string, string> = {
  'state.ts': `let count: number = 0;
export const handler = async () => ({ count: ++count, who: process.env.WHO });`,
  'throws.ts': `export const handler = async () => { throw new TypeError('bad input'); };`,
  'slow.ts': `export const handler = async (event: { ms: number }) => { await new Promise((r) => setTimeout(r, event.ms)); return 'done'; };`,
  'spin.ts': `export const handler = (event: { spin: boolean }) => { while (event.spin) {} return 'free'; };`,
  'crash.ts': `export const handler = async (event: { crash: boolean }) => {
  if (event.crash) setTimeout(() => { throw new Error('thrown outside the handler'); }, 0);
  await new Promise((r) => setTimeout(r, event.crash ? 5000 : 0));
  return 'alive';
};`,
  'callback.ts': `export const handler = (_event: unknown, context: any, callback: (e: unknown, r: unknown) => void) =>
  callback(null, { name: context.functionName, remaining: context.getRemainingTimeInMillis() > 0, id: context.awsRequestId });`,
  'noexport.ts': `export const other = 1;`,
  'holds.ts': `let kept: number[][] = [];
export const handler = async (event: { mb: number }) => { kept = Array.from({ length: event.mb }, () => new Array(131072).fill(1.5)); return kept.length; };`,
};

describe('local/lambda/runtime', () => {
  let dir: TemplateCopy;
  let runtime: LambdaRuntime;
  const logs: string[] = [];

  const model = (id: string, file: string, env: Record<string, string> = {}, timeoutSeconds = 5): FunctionModel => ({
    logicalId: id,
    name: `test-${id}`,
    arn: `arn:aws:lambda:us-east-1:123456789012:function:test-${id}`,
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    handlerExport: 'handler',
    codeDir: dir.dir,
    sourceEntry: `${dir.dir}/${file}`,
    sourceEntryPath: 'test',
    timeoutSeconds,
    memoryMb: 128,
    environment: env,
    asyncRetries: 2,
  });

  before(() => {
    dir = new TemplateCopy();
    for (const [name, code] of Object.entries(FILES)) dir.file(name, code);
    const functions = Object.fromEntries(
      [
        model('StateA', 'state.ts', { WHO: 'a' }),
        model('StateB', 'state.ts', { WHO: 'b' }),
        model('Throws', 'throws.ts'),
        model('Slow', 'slow.ts', {}, 1),
        model('Spin', 'spin.ts', {}, 1),
        model('Crash', 'crash.ts'),
        model('Callback', 'callback.ts'),
        model('NoExport', 'noexport.ts'),
        model('Holds', 'holds.ts'),
      ].map((fn) => [fn.logicalId, fn]),
    );
    runtime = new LambdaRuntime({
      functions,
      entryOf: (fn) => fn.sourceEntry,
      environmentOf: (fn) => fn.environment,
      onLog: (_id, line) => logs.push(line),
    });
  });

  after(async () => {
    await runtime.stop();
    dir.remove();
  });

  it('keeps module state per function and gives each its own process.env', async () => {
    const a1 = await runtime.invoke('StateA', {});
    const a2 = await runtime.invoke('StateA', {});
    const b1 = await runtime.invoke('StateB', {});
    expect([a1.payload, a2.payload, b1.payload]).to.deep.equal(['{"count":1,"who":"a"}', '{"count":2,"who":"a"}', '{"count":1,"who":"b"}']);
  });

  it("reports the most heap a function's environment used, beside its MemorySize", async () => {
    await runtime.invoke('Holds', { mb: 1 });
    const small = runtime.stats().Holds.heapPeakMb;
    // 40 arrays of 131,072 doubles: 40 MB held when the handler answers.
    await runtime.invoke('Holds', { mb: 40 });
    const { heapPeakMb, memoryMb } = runtime.stats().Holds;
    expect(memoryMb).to.equal(128);
    expect(heapPeakMb).to.be.at.least(small + 35);
    // A peak, not the current use: a later small invocation does not lower it.
    await runtime.invoke('Holds', { mb: 1 });
    expect(runtime.stats().Holds.heapPeakMb).to.be.at.least(heapPeakMb);
  });

  it('reports a thrown error as Lambda does and keeps the worker', async () => {
    const result = await runtime.invoke('Throws', {});
    expect(result.ok).to.equal(false);
    expect(JSON.parse(result.payload)).to.deep.include({ errorType: 'TypeError', errorMessage: 'bad input' });
    await runtime.invoke('Throws', {});
    expect(runtime.stats().Throws).to.deep.include({ invocations: 2, errors: 2, coldStarts: 1 });
  });

  it('times an invocation out and serves the next one from a fresh worker', async () => {
    const timedOut = await runtime.invoke('Slow', { ms: 10_000 });
    expect(timedOut.error).to.deep.include({ errorType: 'Sandbox.Timedout' });
    expect(timedOut.error?.errorMessage).to.match(/Task timed out after 1.00 seconds$/);
    expect((await runtime.invoke('Slow', { ms: 0 })).payload).to.equal('"done"');
    expect(runtime.stats().Slow).to.deep.include({ timeouts: 1, coldStarts: 2 });
  });

  it('survives a handler stuck in a synchronous loop', async () => {
    expect((await runtime.invoke('Spin', { spin: true })).error?.errorType).to.equal('Sandbox.Timedout');
    expect((await runtime.invoke('Spin', { spin: false })).payload).to.equal('"free"');
  });

  it('fails the invocation of a crashing worker and recovers', async () => {
    const crashed = await runtime.invoke('Crash', { crash: true });
    expect(crashed.error?.errorType).to.equal('Runtime.ExitError');
    expect(crashed.error?.errorMessage).to.include('thrown outside the handler');
    expect((await runtime.invoke('Crash', { crash: false })).payload).to.equal('"alive"');
  });

  it('runs callback-style handlers with a Lambda context', async () => {
    const result = JSON.parse((await runtime.invoke('Callback', {}, 'req-1')).payload);
    expect(result).to.deep.equal({ name: 'test-Callback', remaining: true, id: 'req-1' });
  });

  it('reports a module without the handler export', async () => {
    expect((await runtime.invoke('NoExport', {})).error?.errorType).to.equal('Runtime.HandlerNotFound');
  });

  it('answers unknown functions without starting anything', async () => {
    expect((await runtime.invoke('Nope', {})).error?.errorType).to.equal('ResourceNotFoundException');
  });
});
