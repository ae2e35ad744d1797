import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { documentClient } from '../../shared/clients.js';
import { config } from '../../shared/config.js';
import { configure, reset } from '../../shared/dependencies.js';

describe('shared/dependencies', () => {
  afterEach(() => reset());

  it('sets the environment, re-reads the settings, and its restore puts back set and unset variables alike', () => {
    process.env.AIRWAVE_DEPENDENCIES_TEST = 'before';
    delete process.env.DEFAULT_CHANNEL;
    const before = config().defaultChannel;
    const restore = configure({ environment: { DEFAULT_CHANNEL: 'lobby', AIRWAVE_DEPENDENCIES_TEST: undefined } });
    expect(config().defaultChannel).to.equal('lobby');
    expect(process.env.AIRWAVE_DEPENDENCIES_TEST).to.equal(undefined);
    restore();
    expect(config().defaultChannel).to.equal(before);
    expect(process.env.DEFAULT_CHANNEL).to.equal(undefined);
    expect(process.env.AIRWAVE_DEPENDENCIES_TEST).to.equal('before');
    delete process.env.AIRWAVE_DEPENDENCIES_TEST;
  });

  it('injects a client until reset() goes back to the lazily built one', () => {
    const fake = { send: async () => ({}), destroy: () => {} } as never;
    configure({ clients: { ddb: fake } });
    expect(documentClient()).to.equal(fake);
    reset();
    expect(documentClient()).to.not.equal(fake);
    reset(); // destroys the client built just now
  });

  it('is the only caller of the replacement hooks behind it, so tests and benchmarks have one way to inject', () => {
    // Prepare: every TypeScript file of the code, the tests, the benchmarks and the scripts.
    const root = new URL('../../', import.meta.url);
    const files = ['shared', 'functions', 'local', 'bench', 'scripts', 'client/src', 'test'].flatMap((dir) =>
      readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })
        .filter((name) => name.endsWith('.ts'))
        .map((name) => `${dir}/${name}`),
    );
    const hooks = /\b(setClients|resetClients|resetConfig|setKeyDependencies|setFloodCloser|setIdempotencyClient)\b/;
    const allowed = [
      'shared/clients.ts',
      'shared/config.ts',
      'shared/auth/verification-keys.ts',
      'shared/flood.ts',
      'shared/publish-idempotency.ts',
      'shared/dependencies.ts',
      'test/shared/dependencies.test.ts',
    ];
    // Act
    const callers = files.filter((path) => !allowed.includes(path) && hooks.test(readFileSync(new URL(path, root), 'utf8')));
    // Assess
    expect(callers).to.deep.equal([]);
  });
});
