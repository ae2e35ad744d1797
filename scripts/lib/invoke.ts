/**
 * `npm run invoke` (scripts/invoke.ts): one function, one event, no Docker. The Docker-free
 * counterpart of `sam local invoke`, on the local stack itself: a stack is started for the run
 * on a free port of 127.0.0.1 (its DynamoDB, @connections and Lambda Invoke API included), the
 * function runs in the stack's Lambda runtime with the template's environment, and the stack
 * stops when the invocation (and any asynchronous invocation it started) is over.
 *
 * What the run has and has not:
 * - DynamoDB: a fresh in-memory dynalite with the template's tables (empty), or
 *   `--dynamodb-endpoint` (for example a running `npm run dev`'s, from its ready lines).
 * - @connections: the run's own, with no connections: every post answers 410 Gone, as AWS does
 *   for a connection that is not there (functions then treat the connection as gone). To reach
 *   live connections, invoke the running stack instead (`aws lambda invoke --endpoint-url`).
 */
import { readFileSync } from 'node:fs';
import { parseParameterOverrides } from '../../local/cloudformation/parameters.js';
import { buildStackModel, type FunctionModel, type StackModel } from '../../local/cloudformation/stack-model.js';
import { LocalStackError } from '../../local/errors.js';
import { findFunction } from '../../local/lambda/function-model.js';
import { parseFlags, UsageError } from './flags.js';

export const USAGE = `Usage: npm run invoke -- <function> <event.json | -> [options]

Runs one function of template.yaml with one event on the local stack's Lambda runtime (no
Docker), prints its result as JSON on stdout and its logs on stderr. Exit code: 0 on success,
1 when the function fails (its error is the JSON printed), 2 for a bad command line.

  <function>                      logical id (PublishFunction) or function name (airwave-local-PublishFunction)
  <event.json | ->                the event: a JSON file (events/ has one per function), or - for stdin

Options:
  --parameter-overrides K=V ...   template parameters, as sam deploy takes them (default: the template's)
  --env-vars <file>               environment overrides in sam local invoke's format:
                                  {"Parameters": {...all functions}, "<LogicalId>": {...one function}};
                                  only variables the template declares are applied, as SAM does
                                  (default: none)
  --dynamodb-endpoint <url>       use this DynamoDB, e.g. a running npm run dev's (default: a fresh
                                  in-memory one with the template's tables)
  --template <path>               template (default: template.yaml)
  --stack-name <name>             AWS::StackName for names (default: airwave-local)
  -h, --help                      this text

@connections posts go to the run's own endpoint, where no connection exists: each answers 410
Gone. To reach live connections, invoke a running npm run dev instead:
  aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name PublishFunction ...

Environment:
  JWT_DEV_SECRET                  AuthMode=jwt: the authorizer's secret (default: a random one)

Example:
  npm run invoke -- PublishFunction events/publish.json
  npm run invoke -- JoinChannelFunction events/joinchannel.json --env-vars events/env.json
`;

const FLAGS = {
  'env-vars': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  template: { type: 'string' },
  'stack-name': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A parsed command line. */
export interface InvokeRequest {
  functionRef: string;
  /** A file path, or `-` for stdin. */
  eventPath: string;
  parameterOverrides?: Record<string, string>;
  envVarsPath?: string;
  dynamodbEndpoint?: string;
  templatePath: string;
  stackName?: string;
}

/**
 * Parses the command line; `undefined` means `--help`. `--parameter-overrides` takes the
 * `Key=Value` arguments that follow it (sam's syntax), so positionals may come before or after.
 */
export function parseInvokeArgs(argv: string[]): InvokeRequest | undefined {
  const rest: string[] = [];
  const overrides: string[] = [];
  let sawOverrides = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--parameter-overrides' || argv[i].startsWith('--parameter-overrides=')) {
      sawOverrides = true;
      if (argv[i].includes('=')) overrides.push(argv[i].slice(argv[i].indexOf('=') + 1));
      while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') && argv[i + 1].includes('=')) overrides.push(argv[++i]);
    } else rest.push(argv[i]);
  }
  const { values, positionals } = parseFlags(rest, FLAGS, 2);
  if (values.help) return undefined;
  if (sawOverrides && overrides.length === 0) throw new UsageError('--parameter-overrides needs Key=Value pairs');
  const [functionRef, eventPath] = positionals;
  if (functionRef === undefined) throw new UsageError('name the function to run (its logical id, e.g. PublishFunction)');
  if (eventPath === undefined) throw new UsageError('give the event: a JSON file (e.g. events/publish.json), or - for stdin');
  let parameterOverrides: Record<string, string> | undefined;
  try {
    parameterOverrides = overrides.length > 0 ? parseParameterOverrides(overrides) : undefined;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    functionRef,
    eventPath,
    parameterOverrides,
    envVarsPath: values['env-vars'],
    dynamodbEndpoint: values['dynamodb-endpoint'],
    templatePath: values.template ?? 'template.yaml',
    stackName: values['stack-name'],
  };
}

/** Reads and parses a JSON file (or stdin for `-`), as a UsageError when it cannot. */
export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path} (${code})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // One line: the parser's message quotes the text it choked on, newlines included.
    throw new UsageError(`${what} ${path} is not JSON: ${(error as Error).message.replace(/\s+/g, ' ')}`);
  }
}

/** The stack model for a request: template errors (bad parameter, missing file) are usage errors. */
export function modelFor(request: InvokeRequest): StackModel {
  try {
    return buildStackModel({
      templatePath: request.templatePath,
      parameterOverrides: request.parameterOverrides,
      stackName: request.stackName,
    });
  } catch (error) {
    if (error instanceof LocalStackError) throw new UsageError(error.message);
    throw error;
  }
}

/** The function a reference names, or a UsageError listing those that exist. */
export function functionFor(model: StackModel, reference: string): FunctionModel {
  const fn = findFunction(model.functions, reference);
  if (!fn) throw new UsageError(`no function ${reference} in the template; functions: ${Object.keys(model.functions).join(', ')}`);
  return fn;
}

/** What `--env-vars` does to one function: the variables applied, and those left as they were (and why). */
export interface EnvOverrides {
  /** Per logical id: the variables to set. */
  byFunction: Record<string, Record<string, string>>;
  /** Of the invoked function: not declared by the template (SAM CLI ignores these too). */
  undeclared: string[];
  /** Of the invoked function: they name this run's own resources (table, endpoint, function names). */
  wired: string[];
}

/** sam local invoke's stringification: booleans as `true`/`false`, objects (unresolved intrinsics) as empty. */
function envString(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'object') return '';
  return String(value);
}

/**
 * Applies an `--env-vars` file the way SAM CLI does (`Parameters` for every function, then the
 * function's own section by logical id or function name; only variables the template declares),
 * except for variables whose template value names one of this run's resources (the table, the
 * API's endpoint, a function of the stack): a file written for Docker (`host.docker.internal`,
 * a table named for another setup) would point the function away from the run's own services.
 */
export function envOverrides(model: StackModel, file: unknown, target: FunctionModel, path = '--env-vars'): EnvOverrides {
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(file) || !Object.values(file).every(isMap))
    throw new UsageError(`${path} must map "Parameters" and function logical ids to objects of variables`);
  const sections = file as Record<string, Record<string, unknown>>;
  const tableNames = new Set(model.tables.map((t) => t.name));
  const wires = (value: string) =>
    value.includes(model.stackName) || value.includes(`${model.api.apiId}.execute-api.`) || tableNames.has(value);
  const result: EnvOverrides = { byFunction: {}, undeclared: [], wired: [] };
  for (const fn of Object.values(model.functions)) {
    const merged = { ...sections.Parameters, ...sections[fn.name], ...sections[fn.logicalId] };
    const own: Record<string, string> = {};
    for (const [name, value] of Object.entries(merged)) {
      const declared = Object.hasOwn(fn.environment, name);
      const local = declared && wires(fn.environment[name]);
      if (declared && !local) own[name] = envString(value);
      if (fn !== target) continue;
      if (!declared) result.undeclared.push(name);
      else if (local) result.wired.push(name);
    }
    result.byFunction[fn.logicalId] = own;
  }
  return result;
}
