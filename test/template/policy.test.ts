// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are compared as written.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { loadTemplate, TEMPLATE_PATH } from '../helpers/template.js';
import { render, resourcesOfType, reviewPolicies } from './statements.js';

/**
 * The least-privilege review, written down: the DynamoDB actions each function may hold. A new
 * function, or a new action, fails here until someone adds it on purpose (read the function's
 * shared/store.ts calls: Put/Update/Delete/Query/BatchWrite map one to one to actions).
 */
const DYNAMODB_ACTIONS: Record<string, string[]> = {
  AuthorizerFunction: [],
  // PutItem: the connection row (found missing by test/template/iam-usage.test.ts).
  ConnectFunction: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
  // Presence (shared/presence.ts) adds GetItem, UpdateItem, DeleteItem where members join or leave.
  DisconnectFunction: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  DefaultFunction: [],
  JoinChannelFunction: [
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  LeaveChannelFunction: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  // GetItem, DeleteItem: a 410's cleanup (test/template/iam-usage.test.ts found them missing).
  SendMessageFunction: [
    'dynamodb:Query',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
  PingFunction: [],
  MembersFunction: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  PublishFunction: [
    'dynamodb:Query',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
  FanoutFunction: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
};
/** Actions on IdempotencyTable (Powertools' record and the progress rows): the backend publisher only. */
const IDEMPOTENCY_ACTIONS: Record<string, string[]> = {
  PublishFunction: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem'],
};
/**
 * Functions that post to connections (@connections POST); the message routes may also DELETE
 * (close) a flooding connection (shared/flood.ts). None may GET.
 */
const MANAGE_CONNECTIONS: Record<string, string[]> = {
  DefaultFunction: ['POST', 'DELETE'],
  PingFunction: ['POST', 'DELETE'],
  MembersFunction: ['POST', 'DELETE'],
  // Presence leave events.
  DisconnectFunction: ['POST'],
  LeaveChannelFunction: ['POST', 'DELETE'],
  JoinChannelFunction: ['POST', 'DELETE'],
  SendMessageFunction: ['POST', 'DELETE'],
  PublishFunction: ['POST'],
  FanoutFunction: ['POST'],
};
/** Publishers hand batches to the worker; the worker hands its undelivered remainder to itself. */
const INVOKES_FANOUT = ['SendMessageFunction', 'PublishFunction', 'FanoutFunction'];
/** Managed policies a role may carry: API Gateway's own CloudWatch push role, nothing broader. */
const ALLOWED_MANAGED_POLICIES = ['arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'];

const API_ARN = 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/';

describe('template.yaml IAM and permissions', () => {
  const template = loadTemplate();
  const { statements, opaque } = reviewPolicies(template);
  const functions = resourcesOfType(template, 'AWS::Serverless::Function');

  describe('Lambda permissions', () => {
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission');
    /** routeKey -> the function its integration invokes. */
    const routeTargets = new Map<string, string>();
    for (const route of resourcesOfType(template, 'AWS::ApiGatewayV2::Route')) {
      const props = template.Resources[route].Properties;
      const integration = /^integrations\/\$\{(\w+)\}$/.exec(render(props.Target))?.[1] ?? '';
      const fn = /functions\/\$\{(\w+)\.Arn\}/.exec(render(template.Resources[integration]?.Properties.IntegrationUri))?.[1];
      if (fn) routeTargets.set(props.RouteKey, fn);
    }

    it('exist, one per routed function and one for the authorizer', () => {
      expect(permissions.length).to.be.greaterThan(0);
      expect(permissions.length).to.equal(routeTargets.size + 1);
    });

    it('all let API Gateway invoke, and only from this API (a SourceArn under the WebSocketApi)', () => {
      for (const name of permissions) {
        const p = template.Resources[name].Properties;
        expect(p.Action, name).to.equal('lambda:InvokeFunction');
        expect(p.Principal, name).to.equal('apigateway.amazonaws.com');
        expect(p.SourceArn, `${name} has no SourceArn`).to.not.equal(undefined);
        expect(render(p.SourceArn).startsWith(API_ARN), `${name}: ${render(p.SourceArn)}`).to.equal(true);
      }
    });

    it('each name the one route that invokes the function (never */*), or the authorizer', () => {
      for (const name of permissions) {
        const p = template.Resources[name].Properties;
        const fn = render(p.FunctionName).replace(/^Ref:/, '');
        const scope = render(p.SourceArn).slice(API_ARN.length);
        if (scope === 'authorizers/${ConnectAuthorizer}') {
          const uri = render(template.Resources.ConnectAuthorizer.Properties.AuthorizerUri);
          expect(uri, name).to.include(`\${${fn}.Arn}`);
          continue;
        }
        const routeKey = /^\*\/(.+)$/.exec(scope)?.[1];
        expect(routeKey, `${name}: ${scope}`).to.be.a('string');
        expect(routeKey, name).to.not.equal('*');
        expect(routeTargets.get(routeKey as string), `${name}: route ${routeKey}`).to.equal(fn);
      }
    });
  });

  describe('IAM statements', () => {
    it('are all inline statements (no SAM policy template or managed policy escapes this review)', () => {
      const unexpected = opaque.filter((o) => !ALLOWED_MANAGED_POLICIES.includes(o.policy));
      expect(unexpected).to.deep.equal([]);
    });

    it('grant no wildcard action (`*`, `dynamodb:*`, `ssm:GetParameter*`)', () => {
      for (const s of statements) for (const action of s.actions) expect(action, s.owner).to.not.include('*');
    });

    it('grant nothing on Resource "*"', () => {
      for (const s of statements) expect(s.resources, `${s.owner}: ${s.actions}`).to.not.include('*');
    });

    it('give each function only its reviewed DynamoDB actions, on the table and its byChannel index', () => {
      for (const fn of functions) expect(DYNAMODB_ACTIONS, `review ${fn}'s DynamoDB actions`).to.have.property(fn);
      for (const s of statements) {
        const actions = s.actions.filter((a) => a.startsWith('dynamodb:'));
        if (actions.length === 0) continue;
        if (s.resources.includes('GetAtt:IdempotencyTable.Arn')) {
          expect(s.resources, s.owner).to.deep.equal(['GetAtt:IdempotencyTable.Arn']);
          expect(IDEMPOTENCY_ACTIONS[s.owner], s.owner).to.include.members(actions);
          continue;
        }
        expect(DYNAMODB_ACTIONS[s.owner], s.owner).to.include.members(actions);
        for (const resource of s.resources) expect(['GetAtt:Table.Arn', '${Table.Arn}/index/byChannel'], s.owner).to.include(resource);
      }
    });

    it("allow execute-api:ManageConnections only on this stage's @connections, with the reviewed methods", () => {
      for (const s of statements.filter((x) => x.actions.includes('execute-api:ManageConnections'))) {
        expect(s.actions, s.owner).to.deep.equal(['execute-api:ManageConnections']);
        expect(MANAGE_CONNECTIONS, s.owner).to.have.property(s.owner);
        for (const resource of s.resources) {
          const method = new RegExp(`^${escapeRegExp(API_ARN)}\\$\\{StageName\\}/(POST|GET|DELETE)/@connections/\\*$`).exec(resource)?.[1];
          expect(method, `${s.owner}: ${resource}`).to.be.a('string');
          expect(MANAGE_CONNECTIONS[s.owner], s.owner).to.include(method);
        }
      }
    });

    it('let only the publishing functions invoke a Lambda, and only the fan-out worker', () => {
      for (const s of statements.filter((x) => x.actions.some((a) => a.startsWith('lambda:')))) {
        expect(INVOKES_FANOUT, s.owner).to.include(s.owner);
        expect(s.actions, s.owner).to.deep.equal(['lambda:InvokeFunction']);
        // The worker's name, built from the stack id (test/template/deploy.test.ts resolves it).
        expect(s.resources, s.owner).to.deep.equal([
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:airwave-fanout-${StackUuid}',
        ]);
      }
    });
  });

  describe('the JWT secret', () => {
    it('is readable (ssm:GetParameter, kms:Decrypt) by the authorizer only, and only the one parameter', () => {
      const secretStatements = statements.filter((s) => s.actions.some((a) => a.startsWith('ssm:') || a.startsWith('kms:')));
      expect(secretStatements.length).to.be.greaterThan(0);
      for (const s of secretStatements) expect(s.owner).to.equal('AuthorizerFunction');
      const ssm = secretStatements.filter((s) => s.actions.some((a) => a.startsWith('ssm:')));
      for (const s of ssm) {
        expect(s.actions).to.deep.equal(['ssm:GetParameter']);
        for (const resource of s.resources)
          expect(resource).to.match(
            /^arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\/?\$\{JwtSecretParameterName\}$/,
          );
      }
    });

    it("is named in no statement and no environment but the authorizer's", () => {
      for (const s of statements)
        if (s.resources.some((r) => r.includes('JwtSecretParameterName'))) expect(s.owner).to.equal('AuthorizerFunction');
      expect(JSON.stringify(template.Globals?.Function?.Environment ?? {})).to.not.include('JwtSecretParameterName');
      for (const fn of functions.filter((f) => f !== 'AuthorizerFunction')) {
        expect(JSON.stringify(template.Resources[fn].Properties.Environment ?? {}), fn).to.not.include('JwtSecretParameterName');
      }
      expect(template.Resources.AuthorizerFunction.Properties.Environment.Variables.JWT_SECRET_PARAMETER).to.deep.equal({
        Ref: 'JwtSecretParameterName',
      });
    });

    it('is never a template parameter: parameters about secrets hold a name or an ARN', () => {
      for (const name of Object.keys(template.Parameters)) {
        if (/secret|password|private/i.test(name)) expect(name).to.match(/(ParameterName|Arn)$/);
      }
    });

    it('cannot be replaced by the development secret in a deployed stack', () => {
      const text = readFileSync(TEMPLATE_PATH, 'utf8');
      expect(text).to.not.include('JWT_DEV_SECRET');
      expect(text).to.not.include('AIRWAVE_LOCAL');
    });
  });

  describe('the $connect authorizer', () => {
    it('has only an identity source every $connect carries, so tokens in Sec-WebSocket-Protocol or ?token= both reach it', () => {
      const props = template.Resources.ConnectAuthorizer.Properties;
      expect(props.AuthorizerType).to.equal('REQUEST');
      // A header or query source would make API Gateway answer 401 without calling the authorizer
      // whenever the token came the other way (test/local/stack.test.ts shows both).
      expect(props.IdentitySource).to.deep.equal(['context.connectionId']);
      // No result caching (HTTP APIs only): the authorizer decides every $connect itself.
      expect(props.AuthorizerResultTtlInSeconds).to.equal(undefined);
    });

    it('guards the $connect route', () => {
      const connect = resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
        .map((r) => template.Resources[r].Properties)
        .find((p) => p.RouteKey === '$connect');
      expect(connect.AuthorizationType).to.equal('CUSTOM');
      expect(connect.AuthorizerId).to.deep.equal({ Ref: 'ConnectAuthorizer' });
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
