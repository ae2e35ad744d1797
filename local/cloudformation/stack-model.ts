/**
 * Everything the local stack runs, derived from the template alone: the WebSocket API (its
 * RouteSelectionExpression and stage), each route → integration → function, the `$connect`
 * authorizer, which routes send their function's response back (RouteResponses), the functions
 * and the DynamoDB tables. Adding a route to the template changes this model, never the code.
 */
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { IDENTITY_SOURCE_PATTERN } from '../apigateway/authorizer.js';
import { TemplateError } from '../errors.js';
import { type FunctionModel, findFunction, functionModels } from '../lambda/function-model.js';
import { Resolver } from './intrinsics.js';
import { resolveParameters } from './parameters.js';
import { LOCAL_ACCOUNT_ID, LocalResources } from './resources.js';
import { loadTemplate, type Template } from './template.js';

export type { FunctionModel } from '../lambda/function-model.js';

/** What to build the model from. */
export interface StackModelOptions {
  templatePath: string;
  parameterOverrides?: Record<string, string>;
  /** `AWS::StackName` (default `airwave-local`). */
  stackName?: string;
  /** Stage override; if the Stage's StageName is a parameter, that parameter takes this value. */
  stage?: string;
  region?: string;
}

/** A REQUEST Lambda authorizer. */
export interface AuthorizerModel {
  logicalId: string;
  functionId: string;
  /**
   * `route.request.querystring.token`, `route.request.header.Auth`, `stageVariables.x`,
   * `context.connectionId`: if one is missing or empty, 401 without calling it.
   */
  identitySources: string[];
}

/** One route of the WebSocket API. */
export interface RouteModel {
  logicalId: string;
  routeKey: string;
  functionId: string;
  authorizationType: string;
  authorizer?: AuthorizerModel;
  /** The route has RouteResponseSelectionExpression and a `$default` RouteResponse: the function's body goes back to the client. */
  twoWay: boolean;
}

/** The WebSocket API and its deployed stage. */
export interface ApiModel {
  logicalId: string;
  apiId: string;
  stage: string;
  /** The raw expression (`$request.body.action`) and the body path it selects (`['action']`). */
  routeSelectionExpression: string;
  routeSelectionPath: string[];
  routes: Record<string, RouteModel>;
  /** The stage's StageVariables (what `stageVariables.X` identity sources read). */
  stageVariables: Record<string, string>;
}

/** A DynamoDB table and the CreateTable input that builds it. */
export interface TableModel {
  logicalId: string;
  name: string;
  definition: Record<string, unknown>;
}

/** The whole local deployment. */
export interface StackModel {
  templatePath: string;
  stackName: string;
  region: string;
  accountId: string;
  parameters: Record<string, string | string[]>;
  api: ApiModel;
  functions: Record<string, FunctionModel>;
  tables: TableModel[];
  /** Outputs that resolve locally (AWS URLs; the stack rewrites them to local ones). */
  outputs: Record<string, string>;
}

const DEFAULT_STACK_NAME = 'airwave-local';
const DEFAULT_REGION = 'us-east-1';
/** CreateTable fields taken from the template (SSE, PITR, TTL, tags... have no local effect). */
const TABLE_FIELDS = [
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'BillingMode',
  'ProvisionedThroughput',
  'StreamSpecification',
];

const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** If `--stage` is given and the Stage's name is a `!Ref` to a parameter, that parameter gets the stage. */
function applyStageOverride(template: Template, overrides: Record<string, string>, stage: string | undefined): Record<string, string> {
  if (stage === undefined) return overrides;
  for (const [, resource] of ofType(template, 'AWS::ApiGatewayV2::Stage')) {
    const name = resource.Properties?.StageName as { Ref?: unknown } | undefined;
    if (typeof name?.Ref === 'string' && name.Ref in template.Parameters) return { ...overrides, [name.Ref]: stage };
  }
  return overrides;
}

function functionOfUri(uri: string, functions: Record<string, FunctionModel>, path: string): string {
  // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
  const m = /\/functions\/(.+)\/invocations$/.exec(uri);
  if (!m) throw new TemplateError(path, `"${uri}" is not a Lambda integration URI; only Lambda (AWS_PROXY) integrations run locally`);
  const fn = findFunction(functions, m[1]);
  if (!fn) throw new TemplateError(path, `names function "${m[1]}", which is not an AWS::Serverless::Function of this template`);
  return fn.logicalId;
}

function routesOf(
  template: Template,
  resolver: Resolver,
  resources: LocalResources,
  apiId: string,
  functions: Record<string, FunctionModel>,
): Record<string, RouteModel> {
  const twoWay = new Set<string>();
  for (const [id, r] of ofType(template, 'AWS::ApiGatewayV2::RouteResponse')) {
    if (!resources.exists(id)) continue;
    const key = resolver.string(r.Properties?.RouteResponseKey, `Resources.${id}.Properties.RouteResponseKey`);
    if (key === '$default') twoWay.add(resolver.string(r.Properties?.RouteId, `Resources.${id}.Properties.RouteId`));
  }
  const routes: Record<string, RouteModel> = {};
  for (const [id, r] of ofType(template, 'AWS::ApiGatewayV2::Route')) {
    const p = r.Properties ?? {};
    const at = (prop: string) => `Resources.${id}.Properties.${prop}`;
    if (!resources.exists(id) || resolver.string(p.ApiId, at('ApiId')) !== apiId) continue;
    const routeKey = resolver.string(p.RouteKey, at('RouteKey'));
    if (p.Target === undefined) throw new TemplateError(at('Target'), 'a route needs a Target (integrations/<id>) to run locally');
    const target = resolver.string(p.Target, at('Target'));
    const integrationId = target.replace(/^integrations\//, '');
    const integration = template.Resources[integrationId];
    if (integration?.Type !== 'AWS::ApiGatewayV2::Integration')
      throw new TemplateError(at('Target'), `"${target}" is not an integration of this template`);
    const type = resolver.string(integration.Properties?.IntegrationType, `Resources.${integrationId}.Properties.IntegrationType`);
    if (type !== 'AWS_PROXY')
      throw new TemplateError(
        `Resources.${integrationId}.Properties.IntegrationType`,
        `${type} integrations do not run locally (only AWS_PROXY to Lambda)`,
      );
    const uriPath = `Resources.${integrationId}.Properties.IntegrationUri`;
    const authorizationType = p.AuthorizationType === undefined ? 'NONE' : resolver.string(p.AuthorizationType, at('AuthorizationType'));
    routes[routeKey] = {
      logicalId: id,
      routeKey,
      functionId: functionOfUri(resolver.string(integration.Properties?.IntegrationUri, uriPath), functions, uriPath),
      authorizationType,
      authorizer:
        authorizationType === 'CUSTOM'
          ? authorizerOf(template, resolver, resolver.string(p.AuthorizerId, at('AuthorizerId')), functions)
          : undefined,
      twoWay: p.RouteResponseSelectionExpression !== undefined && twoWay.has(id),
    };
  }
  return routes;
}

function authorizerOf(template: Template, resolver: Resolver, id: string, functions: Record<string, FunctionModel>): AuthorizerModel {
  const resource = template.Resources[id];
  if (resource?.Type !== 'AWS::ApiGatewayV2::Authorizer')
    throw new TemplateError(`Resources.${id}`, 'is not an AWS::ApiGatewayV2::Authorizer');
  const p = resource.Properties ?? {};
  const at = (prop: string) => `Resources.${id}.Properties.${prop}`;
  const type = resolver.string(p.AuthorizerType, at('AuthorizerType'));
  if (type !== 'REQUEST') throw new TemplateError(at('AuthorizerType'), `${type} authorizers do not run locally (only REQUEST)`);
  const resolved = p.IdentitySource === undefined ? [] : resolver.resolve(p.IdentitySource, at('IdentitySource'));
  // CloudFormation takes a list; API Gateway's own API also a comma-separated string.
  const sources = (Array.isArray(resolved) ? resolved : [resolved]).flatMap((s) => String(s).split(',')).map((s) => s.trim());
  for (const source of sources)
    if (!IDENTITY_SOURCE_PATTERN.test(source))
      throw new TemplateError(
        at('IdentitySource'),
        `"${source}" is not a WebSocket identity source (route.request.header.X, route.request.querystring.X, stageVariables.X, context.X)`,
      );
  return {
    logicalId: id,
    functionId: functionOfUri(resolver.string(p.AuthorizerUri, at('AuthorizerUri')), functions, at('AuthorizerUri')),
    identitySources: sources,
  };
}

function tablesOf(template: Template, resolver: Resolver, resources: LocalResources): TableModel[] {
  return ofType(template, 'AWS::DynamoDB::Table')
    .filter(([id]) => resources.exists(id))
    .map(([id, r]) => {
      const definition: Record<string, unknown> = {};
      for (const field of TABLE_FIELDS) {
        const value = r.Properties?.[field];
        if (value !== undefined) definition[field] = resolver.resolve(value, `Resources.${id}.Properties.${field}`);
      }
      const name = resources.ref(id, `Resources.${id}`) as string;
      return { logicalId: id, name, definition: { ...definition, TableName: name } };
    });
}

/**
 * The UUID at the end of the local `AWS::StackId`: stable for a stack name, different between
 * names, like CloudFormation's (the template names the fan-out worker after it).
 */
export function stackUuid(stackName: string): string {
  const hex = createHash('sha256').update(`stack/${stackName}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Builds the model of a template for one set of options. */
export function buildStackModel(options: StackModelOptions): StackModel {
  const templatePath = resolve(options.templatePath);
  const template = loadTemplate(templatePath);
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const region = options.region ?? DEFAULT_REGION;
  const parameters = resolveParameters(template, applyStageOverride(template, options.parameterOverrides ?? {}, options.stage));
  const resources = new LocalResources(template, stackName, region);
  const pseudo = {
    'AWS::StackName': stackName,
    'AWS::Region': region,
    'AWS::AccountId': LOCAL_ACCOUNT_ID,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackId': `arn:aws:cloudformation:${region}:${LOCAL_ACCOUNT_ID}:stack/${stackName}/${stackUuid(stackName)}`,
    'AWS::NotificationARNs': [] as string[],
  };
  const resolver = new Resolver(template, parameters, pseudo, resources);
  resources.bind(resolver);

  const apis = ofType(template, 'AWS::ApiGatewayV2::Api').filter(
    ([id, r]) =>
      resources.exists(id) && resolver.string(r.Properties?.ProtocolType, `Resources.${id}.Properties.ProtocolType`) === 'WEBSOCKET',
  );
  if (apis.length !== 1)
    throw new TemplateError('Resources', `the local stack runs exactly one WEBSOCKET AWS::ApiGatewayV2::Api, found ${apis.length}`);
  const [apiLogicalId, api] = apis[0];
  const apiId = resources.ref(apiLogicalId, `Resources.${apiLogicalId}`) as string;
  const selectionPath = `Resources.${apiLogicalId}.Properties.RouteSelectionExpression`;
  const expression = resolver.string(api.Properties?.RouteSelectionExpression, selectionPath);
  const selection = /^\$request\.body\.([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)$/.exec(expression);
  if (!selection) throw new TemplateError(selectionPath, `"${expression}" is not supported locally (only $request.body.<path>)`);

  const stages = ofType(template, 'AWS::ApiGatewayV2::Stage').filter(
    ([id, r]) => resources.exists(id) && resolver.string(r.Properties?.ApiId, `Resources.${id}.Properties.ApiId`) === apiId,
  );
  const stage =
    options.stage ??
    (stages[0] ? resolver.string(stages[0][1].Properties?.StageName, `Resources.${stages[0][0]}.Properties.StageName`) : undefined);
  if (!stage) throw new TemplateError(`Resources.${apiLogicalId}`, 'the API has no AWS::ApiGatewayV2::Stage (or pass a stage)');
  const stageVariables = stages[0]?.[1].Properties?.StageVariables;
  const variables =
    stageVariables === undefined ? {} : resolver.resolve(stageVariables, `Resources.${stages[0][0]}.Properties.StageVariables`);

  const functions = functionModels(template, dirname(templatePath), resolver, resources);
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs)) {
    try {
      if (output.Condition === undefined || resolver.condition(output.Condition, `Outputs.${name}.Condition`))
        outputs[name] = resolver.string(output.Value, `Outputs.${name}.Value`);
    } catch {
      // Outputs are informative only: one that needs AWS (ImportValue...) is simply not shown.
    }
  }
  return {
    templatePath,
    stackName,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    parameters,
    api: {
      logicalId: apiLogicalId,
      apiId,
      stage,
      routeSelectionExpression: expression,
      routeSelectionPath: selection[1].split('.'),
      routes: routesOf(template, resolver, resources, apiId, functions),
      stageVariables: Object.fromEntries(Object.entries(variables as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    },
    functions,
    tables: tablesOf(template, resolver, resources),
    outputs,
  };
}
