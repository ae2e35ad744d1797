/**
 * The history step of a publish (issue 10): a `seq` taken without a stored message must never
 * reach clients as a lost message, and a message clients were told does not exist must never be
 * delivered afterwards.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { documentClient } from '../../shared/clients.js';
import { openConnection } from '../../shared/connection-store.js';
import { configure } from '../../shared/dependencies.js';
import { publish } from '../../shared/publish.js';
import { historyPages, markSkipped } from '../../shared/store.js';
import { startBackend, type TestBackend } from '../helpers/stack.js';

type Send = ReturnType<typeof documentClient>['send'];

describe('shared/publish: history step', () => {
  let backend: TestBackend;
  let realSend: Send;
  before(async () => {
    backend = await startBackend();
    realSend = documentClient().send.bind(documentClient()) as Send;
  });
  after(() => backend.stop());
  beforeEach(() => {
    backend.api.posts.length = 0;
  });
  afterEach(() => {
    configure({ clients: { ddb: backend.db.doc } });
  });

  /** Makes the history write (a PutCommand with a frame) behave as `fault` says, once. */
  function faultyHistoryWrite(fault: 'fails' | 'answer lost'): void {
    let done = false;
    const send = (async (command: unknown) => {
      const isHistoryWrite = command instanceof PutCommand && typeof command.input.Item?.frame === 'string';
      if (!isHistoryWrite || done) return realSend(command as never);
      done = true;
      if (fault === 'answer lost') await realSend(command as never);
      throw Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
    }) as Send;
    configure({ clients: { ddb: Object.assign(Object.create(backend.db.doc), { send }) } });
  }

  async function rows(channel: string) {
    const out = [];
    for await (const page of historyPages(channel, 0, 100)) out.push(...page);
    return out.map((r) => ({ seq: r.seq, skipped: r.skipped, stored: r.frame !== undefined }));
  }

  it('writes a tombstone and delivers nothing when the history write fails', async () => {
    await openConnection('p1=', ['fails'], Date.now());
    faultyHistoryWrite('fails');
    const error = await publish('fails', 'lost').catch((e: unknown) => e);
    expect((error as Error).name).to.equal('ProvisionedThroughputExceededException');
    expect(backend.api.posts).to.deep.equal([]);
    expect(await rows('fails')).to.deep.equal([{ seq: 1, skipped: true, stored: false }]);
  });

  it('delivers when the history write went through and only its answer was lost', async () => {
    await openConnection('p2=', ['lost-answer'], Date.now());
    faultyHistoryWrite('answer lost');
    const published = await publish('lost-answer', 'kept');
    expect(published).to.include({ seq: 1, delivered: 1 });
    expect(await rows('lost-answer')).to.deep.equal([{ seq: 1, skipped: false, stored: true }]);
  });

  it('delivers nothing when a replay has already claimed its seq as skipped', async () => {
    await openConnection('p3=', ['claimed'], Date.now());
    expect(await markSkipped('claimed', 1)).to.equal(true);
    const error = await publish('claimed', 'too late').catch((e: unknown) => e);
    // Retryable (a retry takes a new seq), not internal_error: nothing of it was delivered.
    expect(error).to.be.instanceOf(Error).with.property('code', 'unavailable');
    expect(backend.api.posts).to.deep.equal([]);
    expect(await rows('claimed')).to.deep.equal([{ seq: 1, skipped: true, stored: false }]);
  });
});
