/**
 * What CloudFormation would hand back for `!Ref` and `!GetAtt` once the stack exists, made up
 * locally: names follow CloudFormation's own patterns without the random suffix
 * (`<stack>-<LogicalId>`), ARNs use the local account and Region, and the API id is derived from
 * the stack name so URLs stay the same across restarts.
 */
import { createHash } from 'node:crypto';
import { TemplateError } from '../errors.js';
import type { Resolver, ResourceValues } from './intrinsics.js';
import type { Template } from './template.js';

/** The account id of every local ARN (AWS's documentation placeholder). */
export const LOCAL_ACCOUNT_ID = '123456789012';

/** A 10-character API id, like API Gateway's, stable for a given stack name. */
export function apiIdFor(stackName: string, logicalId: string): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest();
  return Array.from(digest.subarray(0, 10), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
}

/**
 * Local physical ids and attributes of a template's resources. `bind` gives it the resolver
 * (names such as `FunctionName: !Sub ${AWS::StackName}-x` are themselves intrinsics).
 */
export class LocalResources implements ResourceValues {
  private resolver?: Resolver;
  private readonly naming = new Set<string>();

  constructor(
    private readonly template: Template,
    private readonly stackName: string,
    private readonly region: string,
  ) {}

  bind(resolver: Resolver): void {
    this.resolver = resolver;
  }

  /** True if the resource exists in this deployment (declared, and its Condition, if any, holds). */
  exists(logicalId: string): boolean {
    const resource = this.template.Resources[logicalId];
    if (!resource) return false;
    return resource.Condition === undefined || this.requireResolver().condition(resource.Condition, `Resources.${logicalId}.Condition`);
  }

  ref(logicalId: string, path: string): string | undefined {
    if (!this.exists(logicalId)) return undefined;
    const type = this.template.Resources[logicalId].Type;
    switch (type) {
      case 'AWS::Serverless::Function':
      case 'AWS::Lambda::Function':
        return this.name(logicalId, 'FunctionName', path);
      case 'AWS::DynamoDB::Table':
        return this.name(logicalId, 'TableName', path);
      case 'AWS::ApiGatewayV2::Api':
        return apiIdFor(this.stackName, logicalId);
      case 'AWS::ApiGatewayV2::Stage':
        return this.name(logicalId, 'StageName', path);
      case 'AWS::Logs::LogGroup':
        return this.name(logicalId, 'LogGroupName', path);
      case 'AWS::IAM::Role':
        return this.name(logicalId, 'RoleName', path);
      case 'AWS::SNS::Topic':
        return this.arn('sns', this.name(logicalId, 'TopicName', path));
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${LOCAL_ACCOUNT_ID}/${this.name(logicalId, 'QueueName', path)}`;
      default:
        // API Gateway routes, integrations, authorizers...: locally their id is the logical id,
        // which is what `Target: integrations/${X}` and `AuthorizerId: !Ref X` then carry.
        return logicalId;
    }
  }

  getAtt(logicalId: string, attribute: string, path: string): unknown {
    if (!this.exists(logicalId)) throw new TemplateError(path, `GetAtt of "${logicalId}", whose Condition is false`);
    const type = this.template.Resources[logicalId].Type;
    const physical = this.ref(logicalId, path) as string;
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::Serverless::Function.Arn':
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${physical}`);
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${physical}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return this.arn('dynamodb', `table/${physical}/stream/1970-01-01T00:00:00.000`);
      case 'AWS::ApiGatewayV2::Api.ApiId':
        return physical;
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `wss://${physical}.execute-api.${this.region}.amazonaws.com`;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${physical}:*`);
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${physical}`;
      case 'AWS::SNS::Topic.TopicArn':
        return physical;
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', physical.slice(physical.lastIndexOf('/') + 1));
      default:
        if (attribute === 'Arn') return this.arn(type.split('::')[1]?.toLowerCase() ?? 'unknown', physical);
        throw new TemplateError(path, `GetAtt ${logicalId}.${attribute} (${type}) has no local value`);
    }
  }

  private arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${LOCAL_ACCOUNT_ID}:${resource}`;
  }

  /** The resource's explicit name property, or `<stack>-<LogicalId>` as CloudFormation would generate it. */
  private name(logicalId: string, property: string, path: string): string {
    const value = this.template.Resources[logicalId].Properties?.[property];
    if (value === undefined) return `${this.stackName}-${logicalId}`;
    if (this.naming.has(logicalId)) throw new TemplateError(path, `${logicalId}.${property} refers to itself`);
    this.naming.add(logicalId);
    try {
      return this.requireResolver().string(value, `Resources.${logicalId}.Properties.${property}`);
    } finally {
      this.naming.delete(logicalId);
    }
  }

  private requireResolver(): Resolver {
    if (!this.resolver) throw new Error('LocalResources used before bind()');
    return this.resolver;
  }
}
