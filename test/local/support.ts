/**
 * Helpers for the local stack's end-to-end tests: a quiet stack on a random port, template
 * copies with extra routes or functions, and direct reads of the stack's DynamoDB table.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import { WAIT_MS } from '../helpers/ws-client.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TEMPLATE = join(REPO_ROOT, 'template.yaml');
/** Functions log nothing and emit no metrics in tests (AIRWAVE_TEST_LOGS=1 shows everything). */
export const QUIET_ENV: Record<string, string> = process.env.AIRWAVE_TEST_LOGS
  ? {}
  : { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
// The one WebSocket test client lives in test/helpers/ws-client.ts; re-exported for the local stack's tests.
export { TestClient, WAIT_MS } from '../helpers/ws-client.js';

export type TestStack = LocalStack & { logs: string[] };

/** Starts the stack on a random port with its output kept in `logs` (printed with AIRWAVE_TEST_LOGS=1). */
export async function startTestStack(options: LocalStackOptions = {}): Promise<TestStack> {
  const logs: string[] = [];
  const keep = (line: string) => {
    logs.push(line);
    if (process.env.AIRWAVE_TEST_LOGS) process.stderr.write(`${line}\n`);
  };
  const stack = await startLocalStack({
    templatePath: TEMPLATE,
    port: 0,
    log: keep,
    functionLog: (id, line) => keep(`[${id}] ${line}`),
    ...options,
    environment: { ...QUIET_ENV, ...options.environment },
  });
  return Object.assign(stack, { logs });
}

/** A copy of template.yaml in a temp directory (CodeUri pointing back at the repository), with files beside it. */
export class TemplateCopy {
  readonly dir = mkdtempSync(join(tmpdir(), 'airwave-local-'));
  readonly path = join(this.dir, 'template.yaml');

  constructor(edit: (text: string) => string = (t) => t) {
    // ES modules for the function files tests write here.
    writeFileSync(join(this.dir, 'package.json'), '{"type":"module"}\n');
    const text = readFileSync(TEMPLATE, 'utf8').replaceAll('CodeUri: ./', `CodeUri: ${REPO_ROOT}`);
    writeFileSync(this.path, edit(text));
  }

  /** Writes a file next to the template; returns its absolute path. */
  file(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Replaces the first `from` after `anchor` (edits one resource's property in template text). */
export function replaceAfter(text: string, anchor: string, from: string, to: string): string {
  const start = text.indexOf(anchor);
  const at = text.indexOf(from, start);
  if (start < 0 || at < 0) throw new Error(`cannot find ${from} after ${anchor} in the template`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** Adds resources (YAML text indented by two spaces) at the end of the Resources section. */
export const withResources = (text: string, resources: string): string => text.replace(/\nOutputs:/, `\n${resources}\nOutputs:`);

/** Route + Integration (+ $default RouteResponse when twoWay) + Function for `routeKey`, served by `entry`. */
export function routeResources(name: string, routeKey: string, entry: string, twoWay = true, extra = ''): string {
  return `
  ${name}Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref WebSocketApi
      RouteKey: ${routeKey}
${twoWay ? '      RouteResponseSelectionExpression: $default\n' : ''}      Target: !Sub "integrations/\${${name}Integration}"
${twoWay ? `  ${name}RouteResponse:\n    Type: AWS::ApiGatewayV2::RouteResponse\n    Properties:\n      ApiId: !Ref WebSocketApi\n      RouteId: !Ref ${name}Route\n      RouteResponseKey: $default\n` : ''}  ${name}Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref WebSocketApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${name}Function.Arn}/invocations"
  ${name}Function:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "\${AWS::StackName}-${name.toLowerCase()}"
      CodeUri: ./
      Handler: index.handler
${extra}    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Format: esm
        EntryPoints: [${entry}]
`;
}

/** Waits until `condition` holds, polling. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads the stack's table directly. */
export class TableReader {
  private readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly stack: LocalStack) {
    this.client = new DynamoDBClient({
      endpoint: stack.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    this.doc = DynamoDBDocumentClient.from(this.client);
  }

  /** Rows of one connection (subscriptions, budgets). */
  async connectionRows(connectionId: string): Promise<number> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.stack.tables.Table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `c#${connectionId}` },
      }),
    );
    return out.Count ?? 0;
  }

  /** Subscription rows of a channel, whoever holds them (a Scan: tests only). */
  async channelRows(channel: string): Promise<number> {
    const out = await this.doc.send(
      new ScanCommand({
        TableName: this.stack.tables.Table,
        FilterExpression: 'sk = :sk',
        ExpressionAttributeValues: { ':sk': `m#${channel}` },
      }),
    );
    return out.Count ?? 0;
  }

  close(): void {
    this.client.destroy();
  }
}
