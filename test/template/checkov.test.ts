import { expect } from 'chai';
import { loadTemplate } from '../helpers/template.js';

/** A reason worth the name: more than a word or two. */
const MIN_REASON_LENGTH = 30;

describe('template.yaml checkov suppressions', () => {
  const template = loadTemplate();
  const skips = Object.entries<{ Metadata?: { checkov?: { skip?: Array<{ id?: unknown; comment?: unknown }> } } }>(
    template.Resources,
  ).flatMap(([name, resource]) => (resource.Metadata?.checkov?.skip ?? []).map((skip) => ({ name, ...skip })));

  it('each name a check id and carry a written reason beside it', () => {
    for (const skip of skips) {
      expect(skip.id, skip.name)
        .to.be.a('string')
        .and.match(/^CKV2?_AWS_\d+$/);
      expect(skip.comment, `${skip.name} ${skip.id}`).to.be.a('string');
      expect((skip.comment as string).trim().length, `${skip.name} ${skip.id}: reason too short`).to.be.at.least(MIN_REASON_LENGTH);
    }
  });

  it('never suppress the SourceArn or hard-coded-secret checks', () => {
    for (const skip of skips) expect(['CKV_AWS_364', 'CKV_AWS_45'], `${skip.name} ${skip.id}`).to.not.include(skip.id);
  });
});
