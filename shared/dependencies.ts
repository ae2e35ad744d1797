/**
 * The one way to replace what the functions depend on: AWS clients, the settings read from the
 * environment, and the authorizer's key sources. Production never calls this module: every
 * dependency is built lazily on first use from `process.env` (shared/clients.ts, shared/config.ts,
 * shared/auth/verification-keys.ts), as a Lambda container needs. Tests, the local stack's
 * in-process runs and the benchmarks inject instead of reaching into each module:
 *
 * ```ts
 * const restore = configure({ environment: { TABLE_NAME: 't' }, clients: { ddb: doc } });
 * // ... the code under test reads TABLE_NAME and uses `doc` ...
 * reset();   // clients and key sources back to the lazily built defaults
 * restore(); // process.env as it was before configure()
 * ```
 *
 * Injecting through one function (as Powertools' `awsSdkV3Client` option and middy's `AwsClient`
 * take a client from the caller) keeps the production path free of test switches and makes every
 * replacement visible at one call site.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type KeyDependencies, setKeyDependencies } from './auth/verification-keys.js';
import { type Clients, resetClients, setClients } from './clients.js';
import { resetConfig } from './config.js';
import { setFloodCloser } from './flood.js';
import type { ConnectionCloser, Poster } from './poster.js';
import { setIdempotencyClient } from './publish-idempotency.js';

/** Every client a test may inject: shared/clients.ts's, and the two modules that build their own. */
export interface InjectedClients extends Clients {
  /**
   * What closes a flooding connection (shared/flood.ts). Default: a two-socket FastPoster built on
   * the first flood; replacing it closes the one built.
   */
  floodCloser?: Poster & ConnectionCloser;
  /** The client of the publish idempotency records (shared/publish-idempotency.ts). Default: built on first use. */
  idempotency?: DynamoDBClient;
}

export interface Dependencies {
  /**
   * Clients to use instead of the lazily built ones (`ddb`, `management`, `lambda`, `poster`,
   * `floodCloser`, `idempotency`). Only the keys given change; an `undefined` value drops that
   * client so it is built again on next use. Default: no change.
   */
  clients?: InjectedClients;
  /**
   * The authorizer's key sources (`fetchParameter` for the SSM SecureString, `jwks` for the JWKS
   * resolver). Replaces the previous sources as a whole and clears the cached keys. Default: no change.
   */
  keys?: KeyDependencies;
  /**
   * Variables to set in `process.env` before the settings are re-read (`undefined` deletes one).
   * The function `configure` returns puts back their previous values. Default: no change.
   */
  environment?: Readonly<Record<string, string | undefined>>;
}

/** Puts back the environment variables one `configure()` changed, and re-reads the settings. */
export type RestoreEnvironment = () => void;

function assignEnvironment(variables: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/**
 * Sets `environment`, injects `clients` and `keys`, and forgets the parsed settings, so the next
 * `config()` re-reads `process.env` (also what a test calls after changing `process.env` itself).
 * Returns the function that puts the environment back (clients and keys go back with `reset()`).
 */
export function configure(dependencies: Dependencies = {}): RestoreEnvironment {
  const environment = dependencies.environment ?? {};
  const previous = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  assignEnvironment(environment);
  if (dependencies.clients) {
    const { floodCloser, idempotency, ...shared } = dependencies.clients;
    setClients(shared);
    if ('floodCloser' in dependencies.clients) setFloodCloser(floodCloser);
    if ('idempotency' in dependencies.clients) setIdempotencyClient(idempotency);
  }
  if (dependencies.keys) setKeyDependencies(dependencies.keys);
  resetConfig();
  return () => {
    assignEnvironment(previous);
    resetConfig();
  };
}

/**
 * Back to the defaults: destroys the clients built or injected so far (closing the bulk poster's
 * and the flood closer's sockets), SSM and remote JWKS as key sources with empty caches, settings
 * re-read on next use.
 */
export function reset(): void {
  resetClients();
  setFloodCloser(undefined);
  setIdempotencyClient(undefined);
  setKeyDependencies({});
  resetConfig();
}
