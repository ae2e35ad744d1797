/**
 * `npm run dev` arguments → {@link LocalStackOptions}. Pure: no I/O.
 *
 * `--parameter-overrides` takes `sam deploy`'s syntax: every following argument up to the next
 * `--option` is one or more `Key=Value` pairs (`... AuthMode=none AllowedOrigins=*`, or one quoted
 * string `"AuthMode=none AllowedOrigins=*"`).
 */

import { DEFAULT_CONNECT_RATE } from '../apigateway/throttle.js';
import { parseParameterOverrides } from '../cloudformation/parameters.js';
import { UsageError } from '../errors.js';
import type { LocalStackOptions } from '../stack.js';

/** The port when neither `--port` nor `PORT` is given. */
export const DEFAULT_PORT = 3001;

export const USAGE = `Usage: npm run dev -- [options]

Runs template.yaml's WebSocket API locally: the functions, DynamoDB (dynalite, in memory),
the @connections API and the Lambda Invoke API, on one port of 127.0.0.1.

Options:
  --port <n>                      port (default: $PORT, else ${DEFAULT_PORT}; 0 = any free port)
  --parameter-overrides K=V ...   template parameters, as sam deploy takes them
  --template <path>               template (default: template.yaml)
  --stage <name>                  stage (default: the template's; sets the StageName parameter)
  --stack-name <name>             AWS::StackName for names and ARNs (default: airwave-local)
  --idle-seconds <n>              idle cut (default: 600, as API Gateway)
  --max-connection-seconds <n>    maximum connection duration (default: 7200, as API Gateway)
  --post-latency-ms <n>           delay every @connections answer (default: 0)
  --throttle-rps <n>              account throttle over @connections calls, answered 429 (default: off)
  --throttle-burst <n>            its burst (default: one second of --throttle-rps)
  --connect-rate <n>              new WebSocket connections per second, beyond answered 429 before any
                                  function runs (default: ${DEFAULT_CONNECT_RATE}, API Gateway's quota; 0 = unlimited)
  --connect-burst <n>             its burst (default: one second of --connect-rate)
  --dynamodb-endpoint <url>       use this DynamoDB instead of starting dynalite
  --built [dir]                   run the built bundles (default dir: .aws-sam/build, sam build's output)
  -h, --help                      this text

Environment:
  PORT                            the port, as --port
  JWT_DEV_SECRET                  AuthMode=jwt with an HMAC secret: the secret tokens are signed with
                                  (at least 32 bytes; default: a random one, printed at start).
                                  Mint a token for it with: npm run token -- --sub alice --channels news
`;

/** Parsed command line: the stack's options, or a request for help. */
export interface CliOptions {
  help: boolean;
  stack: LocalStackOptions & { port: number };
}

const NUMERIC: Record<string, keyof LocalStackOptions> = {
  '--idle-seconds': 'idleSeconds',
  '--max-connection-seconds': 'maxConnectionSeconds',
  '--post-latency-ms': 'postLatencyMs',
  '--throttle-rps': 'throttleRps',
  '--throttle-burst': 'throttleBurst',
  '--connect-rate': 'connectRate',
  '--connect-burst': 'connectBurst',
};
const TEXT: Record<string, keyof LocalStackOptions> = {
  '--template': 'templatePath',
  '--stage': 'stage',
  '--stack-name': 'stackName',
  '--dynamodb-endpoint': 'dynamodbEndpoint',
};

function nonNegative(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new UsageError(`${flag} needs a non-negative number, got ${raw ?? 'nothing'}`);
  return value;
}

function port(flag: string, raw: string | undefined): number {
  const value = nonNegative(flag, raw);
  if (!Number.isInteger(value) || value > 65_535) throw new UsageError(`${flag} must be a port number (0-65535), got ${raw}`);
  return value;
}

/** Parses `argv` (without node and the script) with `env` for `PORT` and `JWT_DEV_SECRET`. */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = {}): CliOptions {
  const stack: CliOptions['stack'] = { port: env.PORT ? port('PORT', env.PORT) : DEFAULT_PORT };
  if (env.JWT_DEV_SECRET) stack.jwtDevSecret = env.JWT_DEV_SECRET;
  let help = false;
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith('--') && argv[i].includes('=') && !argv[i].startsWith('--parameter-overrides=')
        ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
        : [argv[i], undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      i++;
      return next;
    };
    if (flag === '-h' || flag === '--help') help = true;
    else if (flag === '--port') stack.port = port(flag, value());
    else if (Object.hasOwn(NUMERIC, flag)) Object.assign(stack, { [NUMERIC[flag]]: nonNegative(flag, value()) });
    else if (Object.hasOwn(TEXT, flag)) Object.assign(stack, { [TEXT[flag]]: value() });
    else if (flag === '--built') stack.built = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : true;
    else if (flag.startsWith('--parameter-overrides')) {
      if (flag.includes('=')) overrides.push(flag.slice(flag.indexOf('=') + 1));
      while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) overrides.push(argv[++i]);
    } else throw new UsageError(`unknown option ${argv[i]} (see --help)`);
  }
  if (overrides.length > 0) stack.parameterOverrides = parseParameterOverrides(overrides);
  return { help, stack };
}
