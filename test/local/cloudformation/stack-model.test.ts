// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are written as the template writes them.
import { expect } from 'chai';
import { buildStackModel, stackUuid } from '../../../local/cloudformation/stack-model.js';
import { TemplateError } from '../../../local/errors.js';
import { loggingEnvironment } from '../../../local/stack.js';
import { REPO_ROOT, replaceAfter, routeResources, TEMPLATE, TemplateCopy, withResources } from '../support.js';

describe('local/stack-model', () => {
  describe('buildStackModel on template.yaml', () => {
    const model = buildStackModel({ templatePath: TEMPLATE });

    it('routes every route key of the WebSocket API to its function', () => {
      const routes = Object.fromEntries(Object.values(model.api.routes).map((r) => [r.routeKey, r.functionId]));
      expect(routes).to.include({
        $connect: 'ConnectFunction',
        $disconnect: 'DisconnectFunction',
        $default: 'DefaultFunction',
        joinchannel: 'JoinChannelFunction',
        sendmessage: 'SendMessageFunction',
      });
      expect(model.api.routeSelectionPath).to.deep.equal(['action']);
      expect(model.api.stage).to.equal('dev');
    });

    it('sends function bodies back only on routes with a $default RouteResponse', () => {
      expect(model.api.routes.joinchannel.twoWay).to.equal(true);
      expect(model.api.routes.$default.twoWay).to.equal(true);
      expect(model.api.routes.$disconnect.twoWay).to.equal(false);
      expect(model.api.routes.$connect.twoWay).to.equal(false);
    });

    it('puts the REQUEST authorizer in front of $connect', () => {
      expect(model.api.routes.$connect.authorizer).to.deep.include({ logicalId: 'ConnectAuthorizer', functionId: 'AuthorizerFunction' });
    });

    it("reads the authorizer's identity source, one every $connect carries", () => {
      expect(model.api.routes.$connect.authorizer?.identitySources).to.deep.equal(['context.connectionId']);
    });

    it('accepts the custom domain resources and shows their outputs that resolve locally', () => {
      const parameterOverrides = {
        CustomDomainName: 'ws.example.com',
        CustomDomainCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0b7e2c1a-1111-2222-3333-444455556666',
        CustomDomainHostedZoneId: 'Z0123456789ABCDEFGHIJ',
      };
      const withDomain = buildStackModel({ templatePath: TEMPLATE, parameterOverrides });
      expect(withDomain.outputs.CustomDomainUrl).to.equal('wss://ws.example.com');
      // The management endpoint stays the execute-api one; the domain's regional target needs AWS.
      expect(withDomain.outputs.ConnectionsUrl).to.equal(model.outputs.ConnectionsUrl);
      expect(withDomain.outputs).to.not.have.property('CustomDomainTarget');
      expect(Object.keys(withDomain.api.routes).sort()).to.deep.equal(Object.keys(model.api.routes).sort());
      expect(model.outputs).to.not.have.property('CustomDomainUrl');
    });

    it("gives every function Globals' LoggingConfig with LogLevel as the application level", () => {
      for (const fn of Object.values(model.functions)) {
        expect(fn.logging, fn.logicalId).to.deep.equal({ format: 'JSON', applicationLogLevel: 'WARN', systemLogLevel: 'WARN' });
      }
      const debug = buildStackModel({ templatePath: TEMPLATE, parameterOverrides: { LogLevel: 'DEBUG' } });
      // Powertools warns when its own level is more verbose than Lambda's: the two must agree.
      for (const fn of [...Object.values(model.functions), ...Object.values(debug.functions)]) {
        expect(fn.environment.POWERTOOLS_LOG_LEVEL, fn.logicalId).to.equal(fn.logging?.applicationLogLevel);
      }
      expect(debug.functions.PublishFunction.logging?.applicationLogLevel).to.equal('DEBUG');
    });

    it('sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL as Lambda does, unless POWERTOOLS_LOG_LEVEL alone is overridden', () => {
      const fn = model.functions.ConnectFunction;
      expect(loggingEnvironment(fn, {})).to.deep.equal({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' });
      expect(loggingEnvironment(fn, { POWERTOOLS_LOG_LEVEL: 'SILENT' })).to.deep.equal({ AWS_LAMBDA_LOG_FORMAT: 'JSON' });
      expect(loggingEnvironment({ ...fn, logging: undefined }, {})).to.deep.equal({});
      expect(loggingEnvironment({ ...fn, logging: { format: 'Text', applicationLogLevel: 'WARN' } }, {})).to.deep.equal({
        AWS_LAMBDA_LOG_FORMAT: 'Text',
      });
    });

    it('merges Globals into each function environment and resolves names', () => {
      const fn = model.functions.SendMessageFunction;
      // No FunctionName in the template: <stack>-<LogicalId>, as CloudFormation names it (without its suffix).
      expect(fn.name).to.equal('airwave-local-SendMessageFunction');
      expect(fn.environment.TABLE_NAME).to.equal('airwave-local-Table');
      // The worker is named from the stack id; publishers and the worker itself call it by that name.
      expect(fn.environment.FANOUT_FUNCTION).to.equal(`airwave-fanout-${stackUuid('airwave-local')}`);
      expect(model.functions.FanoutFunction.name).to.equal(fn.environment.FANOUT_FUNCTION);
      expect(model.functions.FanoutFunction.environment.FANOUT_FUNCTION).to.equal(fn.environment.FANOUT_FUNCTION);
      expect(model.functions.PublishFunction.environment.FANOUT_FUNCTION).to.equal(fn.environment.FANOUT_FUNCTION);
      expect(fn.environment.CONNECTIONS_ENDPOINT).to.equal(`https://${model.api.apiId}.execute-api.us-east-1.amazonaws.com/dev`);
      expect(fn.sourceEntry).to.equal(`${REPO_ROOT}functions/sendmessage/index.ts`);
      expect(fn.timeoutSeconds).to.equal(24);
      expect(model.functions.AuthorizerFunction.environment).to.have.property('ALLOWED_ORIGINS');
    });

    it('takes the table definition with its GSI', () => {
      const [table] = model.tables;
      expect(table.name).to.equal('airwave-local-Table');
      expect(table.definition.KeySchema).to.deep.equal([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect((table.definition.GlobalSecondaryIndexes as Array<{ IndexName: string }>)[0].IndexName).to.equal('byChannel');
    });

    it('follows --stack-name into names and ARNs', () => {
      const other = buildStackModel({ templatePath: TEMPLATE, stackName: 'mine' });
      expect(other.functions.PublishFunction.arn).to.equal('arn:aws:lambda:us-east-1:123456789012:function:mine-PublishFunction');
      expect(other.functions.FanoutFunction.name).to.not.equal(model.functions.FanoutFunction.name);
      expect(other.api.apiId).to.not.equal(model.api.apiId);
    });

    it('gives --stage to the StageName parameter, so URLs in the environment follow', () => {
      const other = buildStackModel({ templatePath: TEMPLATE, stage: 'test' });
      expect(other.api.stage).to.equal('test');
      expect(other.parameters.StageName).to.equal('test');
      expect(other.functions.PingFunction.environment.CONNECTIONS_ENDPOINT).to.match(/\/test$/);
    });
  });

  describe('buildStackModel on changed templates', () => {
    let copy: TemplateCopy | undefined;
    afterEach(() => copy?.remove());

    it('picks up a route added to the template', () => {
      copy = new TemplateCopy((t) => withResources(t, routeResources('Echo', 'echo', 'echo.ts')));
      const model = buildStackModel({ templatePath: copy.path });
      expect(model.api.routes.echo).to.deep.include({ functionId: 'EchoFunction', twoWay: true });
      // CodeUri ./ is relative to the template: the copy's directory.
      expect(model.functions.EchoFunction.sourceEntry).to.equal(`${copy.dir}/echo.ts`);
    });

    it('refuses an identity source API Gateway would not accept', () => {
      copy = new TemplateCopy((t) => t.replace('IdentitySource: [context.connectionId]', 'IdentitySource: [$request.header.Auth]'));
      expect(() => buildStackModel({ templatePath: copy?.path as string })).to.throw(
        TemplateError,
        'Resources.ConnectAuthorizer.Properties.IdentitySource: "$request.header.Auth" is not a WebSocket identity source',
      );
    });

    it('splits a comma-separated IdentitySource and reads the stage variables', () => {
      copy = new TemplateCopy((t) =>
        replaceAfter(
          t.replace('IdentitySource: [context.connectionId]', 'IdentitySource: "route.request.header.X-Key, stageVariables.gate"'),
          '  Stage:',
          '      AutoDeploy: true',
          '      AutoDeploy: true\n      StageVariables:\n        gate: open',
        ),
      );
      const changed = buildStackModel({ templatePath: copy.path });
      expect(changed.api.routes.$connect.authorizer?.identitySources).to.deep.equal(['route.request.header.X-Key', 'stageVariables.gate']);
      expect(changed.api.stageVariables).to.deep.equal({ gate: 'open' });
    });

    it('names the integration whose type cannot run locally', () => {
      copy = new TemplateCopy((t) => replaceAfter(t, '  PingIntegration:', 'IntegrationType: AWS_PROXY', 'IntegrationType: MOCK'));
      expect(() => buildStackModel({ templatePath: copy?.path as string })).to.throw(
        TemplateError,
        'Resources.PingIntegration.Properties.IntegrationType: MOCK integrations do not run locally',
      );
    });

    it('names the route whose integration points at no function of the template', () => {
      copy = new TemplateCopy((t) =>
        t.replace('functions/${PingFunction.Arn}/invocations', 'functions/arn:aws:lambda:us-east-1:1:function:elsewhere/invocations'),
      );
      expect(() => buildStackModel({ templatePath: copy?.path as string })).to.throw(
        TemplateError,
        'Resources.PingIntegration.Properties.IntegrationUri: names function "arn:aws:lambda:us-east-1:1:function:elsewhere"',
      );
    });
  });
});
