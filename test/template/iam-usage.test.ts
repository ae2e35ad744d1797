/**
 * The IAM review of policy.test.ts is a list written by hand, and a hand-written list drifts: the
 * 410 cleanup grew a GetItem (is the connection still in its handshake?) and a DeleteItem (the
 * connection row) that the publishers' and the worker's roles never got, which no local run shows
 * (the local stack does not enforce IAM). This test derives what each function's code can call:
 * it bundles the function's entry point as `sam build` does (esbuild), takes the project's own
 * source files in the bundle, and maps every DynamoDB command they construct to its IAM action.
 * A function's role must allow each of them on the table (per module, so a module that one
 * function uses only partly still counts whole: the check errs on the side of granting).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { build } from 'esbuild';
import { loadTemplate } from '../helpers/template.js';
import { reviewPolicies } from './statements.js';

/** lib-dynamodb / client-dynamodb command class → IAM action. */
const ACTION_OF: Record<string, string> = {
  GetCommand: 'dynamodb:GetItem',
  GetItemCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  PutItemCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  UpdateItemCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  DeleteItemCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
  BatchWriteItemCommand: 'dynamodb:BatchWriteItem',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  BatchGetItemCommand: 'dynamodb:BatchGetItem',
  TransactWriteCommand: 'dynamodb:TransactWriteItems',
  TransactGetCommand: 'dynamodb:TransactGetItems',
};

/** Project files (not node_modules) that bundling `entry` pulls in. */
async function sourcesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    // Only which project files are reached matters; packages are left out (and not read).
    packages: 'external',
  });
  return Object.keys(result.metafile.inputs).filter((path) => !path.includes('node_modules'));
}

/**
 * Actions a function's bundle contains but never calls, each reviewed: the analysis works per
 * module, and these commands sit in exported functions the route does not reach. An entry that
 * is no longer in the bundle fails too, so the list cannot go stale.
 */
const NOT_ON_PATH: Record<string, Record<string, string>> = {
  ConnectFunction: {
    'dynamodb:GetItem': 'connection-store.ts: connectionExists / isEstablishing (joins, 410s)',
    'dynamodb:DeleteItem': 'connection-store.ts: deleteConnectionRows ($disconnect, 410s)',
    'dynamodb:Query': 'connection-store.ts: row paging of removal and counting',
    'dynamodb:UpdateItem': 'connection-store.ts: channel count and budgets (joins, publishes)',
  },
  DisconnectFunction: { 'dynamodb:PutItem': 'connection-store.ts joinChannel, presence.ts addMemberConnection (joins only)' },
  LeaveChannelFunction: { 'dynamodb:PutItem': 'connection-store.ts joinChannel, presence.ts addMemberConnection (joins only)' },
  MembersFunction: { 'dynamodb:PutItem': 'connection-store.ts joinChannel, presence.ts addMemberConnection (joins only)' },
  FanoutFunction: { 'dynamodb:PutItem': 'joinChannel / addMemberConnection (joins) and store.ts history writes (publishers)' },
  PublishFunction: { 'dynamodb:BatchGetItem': 'publish-idempotency.ts readProgress: on IdempotencyTable, granted there' },
};

/** DynamoDB actions the given source files can call. */
function actionsIn(files: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/new (\w+Command)\b/g)) {
      const action = ACTION_OF[match[1]];
      if (action) actions.add(action);
    }
  }
  return actions;
}

/** The function's entry point from its BuildProperties (the same list `sam build` reads). */
function entryOf(resource: { Metadata?: { BuildProperties?: { EntryPoints?: string[] } } }): string | undefined {
  return resource.Metadata?.BuildProperties?.EntryPoints?.[0];
}

describe('template.yaml IAM covers what the code calls', function () {
  this.timeout(60_000);
  const template = loadTemplate();
  const functions = Object.entries(template.Resources as Record<string, { Type: string }>).filter(
    ([, resource]) => resource.Type === 'AWS::Serverless::Function',
  );
  /** DynamoDB actions each function's role allows on the table (not the idempotency table). */
  const granted = new Map<string, Set<string>>();
  for (const statement of reviewPolicies(template).statements) {
    if (statement.effect !== 'Allow' || !statement.resources.includes('GetAtt:Table.Arn')) continue;
    const set = granted.get(statement.owner) ?? new Set<string>();
    for (const action of statement.actions) set.add(action);
    granted.set(statement.owner, set);
  }

  it('finds every function and its entry point', () => {
    expect(functions.length).to.be.greaterThan(8);
    for (const [id, resource] of functions) expect(entryOf(resource as never), id).to.be.a('string');
  });

  for (const [id, resource] of functions) {
    it(`${id}: its role allows every DynamoDB action its bundled code can call on the table`, async () => {
      const entry = entryOf(resource as never) as string;
      const used = actionsIn(await sourcesOf(entry));
      const allowed = granted.get(id) ?? new Set<string>();
      const reviewed = NOT_ON_PATH[id] ?? {};
      const missing = [...used].filter((action) => !allowed.has(action) && !(action in reviewed)).sort();
      expect(missing, `${id} calls these without a grant`).to.deep.equal([]);
      const stale = Object.keys(reviewed).filter((action) => !used.has(action) || allowed.has(action));
      expect(stale, `${id}: NOT_ON_PATH entries no longer needed`).to.deep.equal([]);
    });
  }
});
