// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are compared as written.
/**
 * Deploy-time details no local run shows (issue 11): names that must fit AWS's limits for any
 * valid stack name, the Stage ordered after the account's CloudWatch role, the custom domain's
 * resources and Rules. Names are rendered with the local stack's resolver, given the longest
 * values CloudFormation can produce.
 */
import { expect } from 'chai';
import { Resolver, type ResourceValues } from '../../local/cloudformation/intrinsics.js';
import { resolveParameters } from '../../local/cloudformation/parameters.js';
import { loadTemplate as loadLocalTemplate, type Template } from '../../local/cloudformation/template.js';
import { loadTemplate, TEMPLATE_PATH } from '../helpers/template.js';
import { render, reviewPolicies } from './statements.js';

/** The longest stack name CloudFormation accepts: 128 characters, a letter first. */
const LONGEST_STACK_NAME = `A${'b-'.repeat(63)}c`;
const STACK_UUID = '1c2fa620-982a-11e3-aff7-50e2416294e0';
/** Names CloudFormation generates are cut to the service's limit: the worst case is that limit. */
const GENERATED_FUNCTION_NAME_LENGTH = 64;
const GENERATED_QUEUE_NAME_LENGTH = 80;

/** Lambda function names (CreateFunction), API names (CreateApi), and the other limits checked here. */
const LIMITS = {
  functionName: /^[A-Za-z0-9_-]{1,64}$/,
  apiName: 128,
  logGroupName: /^[.\-_/#A-Za-z0-9]{1,512}$/,
  alarmName: 255,
  dashboardName: /^[A-Za-z0-9_-]{1,255}$/,
};

/** Ref and GetAtt values as long as CloudFormation can make them. */
class LongestNames implements ResourceValues {
  resolver?: Resolver;
  constructor(private readonly template: Template) {}

  ref(logicalId: string): string | undefined {
    const resource = this.template.Resources[logicalId];
    if (!resource) return undefined;
    if (resource.Type === 'AWS::Serverless::Function') {
      const name = resource.Properties?.FunctionName;
      return name === undefined ? 'f'.repeat(GENERATED_FUNCTION_NAME_LENGTH) : this.resolver?.string(name, logicalId);
    }
    if (resource.Type === 'AWS::ApiGatewayV2::Api') return 'a1b2c3d4e5';
    return `${logicalId}-generated`;
  }

  getAtt(logicalId: string, attribute: string): unknown {
    if (attribute === 'QueueName') return 'q'.repeat(GENERATED_QUEUE_NAME_LENGTH);
    if (attribute === 'Arn') return `arn:aws:service:us-east-1:123456789012:${this.ref(logicalId)}`;
    return `${logicalId}.${attribute}`;
  }
}

function longestNameResolver(overrides: Record<string, string> = {}): { template: Template; resolver: Resolver } {
  const template = loadLocalTemplate(TEMPLATE_PATH);
  const values = new LongestNames(template);
  const resolver = new Resolver(
    template,
    resolveParameters(template, { StageName: 's'.repeat(64), ...overrides }),
    {
      'AWS::StackName': LONGEST_STACK_NAME,
      'AWS::StackId': `arn:aws:cloudformation:us-east-1:123456789012:stack/${LONGEST_STACK_NAME}/${STACK_UUID}`,
      'AWS::Region': 'ap-southeast-2',
      'AWS::AccountId': '123456789012',
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    },
    values,
  );
  values.resolver = resolver;
  return { template, resolver };
}

const ofType = (template: { Resources: Record<string, { Type: string }> }, type: string) =>
  Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type);

describe('template.yaml at deploy time', () => {
  const raw = loadTemplate();

  describe('with the longest stack name (128 characters)', () => {
    const { template, resolver } = longestNameResolver();
    const property = (id: string, name: string) => template.Resources[id].Properties?.[name];
    const fanoutName = resolver.string(property('FanoutFunction', 'FunctionName'), 'FanoutFunction.FunctionName');

    it('gives every function a valid name of at most 64 characters, or lets CloudFormation generate one', () => {
      expect(LONGEST_STACK_NAME).to.have.length(128);
      for (const id of ofType(template, 'AWS::Serverless::Function')) {
        const name = property(id, 'FunctionName');
        if (name === undefined) continue;
        expect(resolver.string(name, id), id).to.match(LIMITS.functionName);
      }
      expect(fanoutName).to.equal(`airwave-fanout-${STACK_UUID}`);
    });

    it('names the API within its 128 characters', () => {
      for (const id of ofType(template, 'AWS::ApiGatewayV2::Api'))
        expect(resolver.string(property(id, 'Name'), id).length, id).to.be.at.most(LIMITS.apiName);
    });

    it('names every log group validly, within 512 characters', () => {
      for (const id of ofType(template, 'AWS::Logs::LogGroup')) {
        const name = property(id, 'LogGroupName');
        if (name !== undefined) expect(resolver.string(name, id), id).to.match(LIMITS.logGroupName);
      }
    });

    it('names alarms and the dashboard within their limits', () => {
      for (const id of ofType(template, 'AWS::CloudWatch::Alarm')) {
        const name = property(id, 'AlarmName');
        if (name !== undefined) expect(resolver.string(name, id).length, id).to.be.at.most(LIMITS.alarmName);
      }
      const dashboards = ofType(template, 'AWS::CloudWatch::Dashboard');
      expect(dashboards).to.have.length(1);
      for (const id of dashboards) expect(resolver.string(property(id, 'DashboardName'), id), id).to.match(LIMITS.dashboardName);
    });

    it('has the publishers and the worker call the fan-out worker by the name it has', () => {
      const publishers = ['PublishFunction', 'SendMessageFunction', 'FanoutFunction'];
      for (const id of publishers) {
        const variables = (property(id, 'Environment') as { Variables: Record<string, unknown> }).Variables;
        expect(resolver.string(variables.FANOUT_FUNCTION, id), id).to.equal(fanoutName);
      }
      const invokes = reviewPolicies(raw).statements.filter((s) => s.actions.includes('lambda:InvokeFunction'));
      expect(invokes.map((s) => s.owner).sort()).to.deep.equal([...publishers].sort());
      for (const s of invokes) {
        const policy = raw.Resources[s.owner].Properties.Policies.flatMap((p: { Statement: unknown[] }) => p.Statement);
        const statement = policy.find((x: { Action: unknown }) => JSON.stringify(x.Action).includes('lambda:InvokeFunction'));
        expect(resolver.string(statement.Resource, s.owner), s.owner).to.equal(
          `arn:aws:lambda:ap-southeast-2:123456789012:function:${fanoutName}`,
        );
      }
    });
  });

  describe('access logs and the account role in one deploy', () => {
    it('orders the Stage after ApiGatewayAccount through a handle that names it only when it exists', () => {
      const stage = raw.Resources.Stage;
      expect(stage.DependsOn).to.include('AccountRoleReady');
      const handle = raw.Resources.AccountRoleReady;
      expect(handle.Type).to.equal('AWS::CloudFormation::WaitConditionHandle');
      expect(handle.Condition).to.equal(undefined);
      expect(handle.Metadata.AccountSettings).to.deep.equal({ 'Fn::If': ['CreateAccountRole', { Ref: 'ApiGatewayAccount' }, ''] });
      expect(raw.Resources.ApiGatewayAccount.Condition).to.equal('CreateAccountRole');
    });

    it('resolves the handle to the account only when CreateApiGatewayAccountRole=true', () => {
      for (const [value, expected] of [
        ['true', 'ApiGatewayAccount-generated'],
        ['false', ''],
      ]) {
        const { resolver } = longestNameResolver({ CreateApiGatewayAccountRole: value, EnableAccessLogs: 'true' });
        expect(resolver.resolve(raw.Resources.AccountRoleReady.Metadata, 'Metadata'), value).to.deep.equal({ AccountSettings: expected });
      }
    });

    it('never names a conditional resource in a DependsOn of a resource without the same condition (cfn-lint E3005)', () => {
      for (const [id, resource] of Object.entries<{ DependsOn?: string | string[]; Condition?: string }>(raw.Resources)) {
        for (const dependency of [resource.DependsOn ?? []].flat()) {
          const condition = raw.Resources[dependency]?.Condition;
          if (condition !== undefined) expect(resource.Condition, `${id} DependsOn ${dependency}`).to.equal(condition);
        }
      }
    });
  });

  describe('the custom domain', () => {
    const domain = {
      CustomDomainName: 'ws.example.com',
      CustomDomainCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b7e2c1a-1111-2222-3333-444455556666',
      CustomDomainHostedZoneId: 'Z0123456789ABCDEFGHIJ',
    };
    const exists = (overrides: Record<string, string>, id: string) => {
      const { template, resolver } = longestNameResolver(overrides);
      const condition = template.Resources[id].Condition;
      return condition === undefined || resolver.condition(condition, id);
    };
    /** The assertions of every Rule whose RuleCondition holds, false for each that fails. */
    const failedRules = (overrides: Record<string, string>) => {
      const { resolver } = longestNameResolver(overrides);
      return Object.entries<{ RuleCondition?: unknown; Assertions: Array<{ Assert: unknown }> }>(raw.Rules)
        .filter(([, rule]) => rule.RuleCondition === undefined || resolver.resolve(rule.RuleCondition, 'RuleCondition') === true)
        .filter(([, rule]) => rule.Assertions.some((a) => resolver.resolve(a.Assert, 'Assert') !== true))
        .map(([name]) => name);
    };

    it('is off by default: no domain, mapping, record or custom URL', () => {
      for (const id of ['CustomDomain', 'CustomDomainMapping', 'CustomDomainRecord']) expect(exists({}, id), id).to.equal(false);
      expect(raw.Outputs.CustomDomainUrl.Condition).to.equal('HasCustomDomain');
      expect(failedRules({})).to.deep.equal([]);
    });

    it('creates a REGIONAL TLS 1.2 domain mapped to the stage, and the alias record only with a hosted zone', () => {
      const { CustomDomainHostedZoneId: _zone, ...withoutZone } = domain;
      expect(exists(domain, 'CustomDomain')).to.equal(true);
      expect(exists(domain, 'CustomDomainRecord')).to.equal(true);
      expect(exists(withoutZone, 'CustomDomainMapping')).to.equal(true);
      expect(exists(withoutZone, 'CustomDomainRecord')).to.equal(false);
      const [configuration] = raw.Resources.CustomDomain.Properties.DomainNameConfigurations;
      expect(configuration).to.deep.include({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' });
      expect(raw.Resources.CustomDomainMapping.Properties).to.deep.include({ ApiId: { Ref: 'WebSocketApi' }, Stage: { Ref: 'Stage' } });
      expect(raw.Resources.CustomDomainRecord.Properties.AliasTarget).to.deep.include({
        DNSName: { 'Fn::GetAtt': ['CustomDomain', 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': ['CustomDomain', 'RegionalHostedZoneId'] },
      });
      expect(failedRules(domain)).to.deep.equal([]);
      expect(failedRules(withoutZone)).to.deep.equal([]);
    });

    it('is refused by a Rule without a certificate, and a certificate or zone without a domain', () => {
      expect(failedRules({ CustomDomainName: 'ws.example.com' })).to.deep.equal(['CustomDomainNeedsCertificate']);
      expect(failedRules({ CustomDomainCertificateArn: domain.CustomDomainCertificateArn })).to.deep.equal([
        'CustomDomainSettingsNeedName',
      ]);
      expect(failedRules({ CustomDomainHostedZoneId: domain.CustomDomainHostedZoneId })).to.deep.equal(['CustomDomainSettingsNeedName']);
    });

    it('takes only well-formed values (the parameters’ AllowedPattern)', () => {
      const accepts = (name: string, value: string) => new RegExp(raw.Parameters[name].AllowedPattern).test(value);
      for (const [name, value] of Object.entries(domain)) {
        expect(accepts(name, value), name).to.equal(true);
        expect(accepts(name, ''), `${name} empty`).to.equal(true);
      }
      for (const bad of ['WS.example.com', 'ws..example.com', '-ws.example.com', 'ws.example.com.', 'https://ws.example.com', 'localhost'])
        expect(accepts('CustomDomainName', bad), bad).to.equal(false);
      expect(accepts('CustomDomainCertificateArn', 'arn:aws:iam::123456789012:server-certificate/x')).to.equal(false);
      expect(accepts('CustomDomainHostedZoneId', 'zone-1')).to.equal(false);
    });

    it('gives the custom wss:// URL beside the execute-api one, and keeps @connections on execute-api', () => {
      const { resolver } = longestNameResolver(domain);
      expect(resolver.string(raw.Outputs.CustomDomainUrl.Value, 'CustomDomainUrl')).to.equal('wss://ws.example.com');
      expect(render(raw.Outputs.WebSocketUrl.Value)).to.match(/^wss:\/\/\$\{WebSocketApi\}\.execute-api\./);
      const connections = render(raw.Outputs.ConnectionsUrl.Value);
      expect(connections).to.match(
        /^https:\/\/\$\{WebSocketApi\}\.execute-api\.\$\{AWS::Region\}\.amazonaws\.com\/\$\{StageName\}\/@connections$/,
      );
      expect(render(raw.Globals.Function.Environment.Variables.CONNECTIONS_ENDPOINT)).to.not.include('CustomDomain');
    });
  });
});
