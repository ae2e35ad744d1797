/**
 * The template's functions as the local Lambda runtime needs them: code location (source entry
 * point and built bundle), handler export, timeout, memory, and the environment (Globals merged
 * with the function's own, as SAM does).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Resolver } from '../cloudformation/intrinsics.js';
import type { LocalResources } from '../cloudformation/resources.js';
import type { Template } from '../cloudformation/template.js';
import { TemplateError } from '../errors.js';

/** Lambda's own defaults when neither the function nor Globals set them. */
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const LAMBDA_DEFAULT_MEMORY_MB = 128;
const LAMBDA_DEFAULT_ASYNC_RETRIES = 2;
/** Extensions tried for a handler file when no esbuild entry point is declared. */
const SOURCE_EXTENSIONS = ['.ts', '.mts', '.mjs', '.js', '.cjs'];
/** Extensions tried for a built handler (esbuild with `OutExtension: [.js=.mjs]` writes .mjs). */
const BUILT_EXTENSIONS = ['.mjs', '.js', '.cjs'];

/** One function of the template. */
export interface FunctionModel {
  logicalId: string;
  /** The deployed function name (FunctionName, or `<stack>-<LogicalId>`). */
  name: string;
  arn: string;
  runtime: string;
  /** `Handler` as written (`index.handler`): module path and export name. */
  handler: string;
  handlerExport: string;
  /** The code directory (CodeUri, relative to the template). */
  codeDir: string;
  /** The source file to run in source mode (the esbuild entry point, else the handler module). */
  sourceEntry: string;
  /** Where in the template `sourceEntry` came from, for errors. */
  sourceEntryPath: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Environment from the template (Globals merged), with AWS values: the stack rewrites endpoints. */
  environment: Record<string, string>;
  /** Resolved Metadata.BuildProperties (esbuild options), if the function declares them. */
  buildProperties?: Record<string, unknown>;
  /** Retries of a failed asynchronous invocation (EventInvokeConfig.MaximumRetryAttempts; Lambda's default is 2). */
  asyncRetries: number;
  /** Resolved LoggingConfig (Lambda's advanced logging controls), if the function or Globals set it. */
  logging?: { format?: string; applicationLogLevel?: string; systemLogLevel?: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The file of a built function: `<buildDir>/<LogicalId>/<handler module>.mjs` (what `sam build` writes). */
export function builtEntry(fn: FunctionModel, buildDir: string): string {
  const moduleName = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  const base = join(buildDir, fn.logicalId, moduleName);
  return BUILT_EXTENSIONS.map((ext) => base + ext).find((file) => existsSync(file)) ?? `${base}.mjs`;
}

function environmentOf(
  fnProps: Record<string, unknown>,
  globals: Record<string, unknown>,
  resolver: Resolver,
  id: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  const sources: Array<[unknown, string]> = [
    [(globals.Environment as Record<string, unknown> | undefined)?.Variables, 'Globals.Function.Environment.Variables'],
    [(fnProps.Environment as Record<string, unknown> | undefined)?.Variables, `Resources.${id}.Properties.Environment.Variables`],
  ];
  for (const [variables, path] of sources) {
    if (variables === undefined) continue;
    const resolved = resolver.resolve(variables, path);
    if (!isObject(resolved)) throw new TemplateError(path, 'Variables must be a map');
    for (const [key, value] of Object.entries(resolved)) {
      if (value !== null && typeof value === 'object') throw new TemplateError(`${path}.${key}`, 'an environment value must be a string');
      env[key] = String(value);
    }
  }
  return env;
}

function loggingOf(value: unknown, resolver: Resolver, path: string): FunctionModel['logging'] {
  if (value === undefined) return undefined;
  const resolved = resolver.resolve(value, path);
  if (!isObject(resolved)) throw new TemplateError(path, 'LoggingConfig must be a map');
  const text = (key: string) => (resolved[key] === undefined ? undefined : String(resolved[key]));
  return { format: text('LogFormat'), applicationLogLevel: text('ApplicationLogLevel'), systemLogLevel: text('SystemLogLevel') };
}

function sourceEntryOf(
  id: string,
  codeDir: string,
  handler: string,
  metadata: Record<string, unknown>,
  resolver: Resolver,
): [string, string] {
  const entryPoints = (metadata.BuildProperties as Record<string, unknown> | undefined)?.EntryPoints;
  if (metadata.BuildMethod === 'esbuild' && entryPoints !== undefined) {
    const path = `Resources.${id}.Metadata.BuildProperties.EntryPoints[0]`;
    const list = resolver.resolve(entryPoints, path);
    if (!Array.isArray(list) || typeof list[0] !== 'string') throw new TemplateError(path, 'EntryPoints must list at least one file');
    return [resolve(codeDir, list[0]), path];
  }
  const base = resolve(codeDir, handler.slice(0, handler.lastIndexOf('.')));
  const found = SOURCE_EXTENSIONS.map((ext) => base + ext).find((file) => existsSync(file));
  return [found ?? `${base}.ts`, `Resources.${id}.Properties.Handler`];
}

/**
 * Every `AWS::Serverless::Function` of the template whose Condition holds. (Plain
 * `AWS::Lambda::Function`s carry inline or S3 code the local stack cannot run from source.)
 */
export function functionModels(
  template: Template,
  templateDir: string,
  resolver: Resolver,
  resources: LocalResources,
): Record<string, FunctionModel> {
  const globals = template.Globals.Function ?? {};
  const out: Record<string, FunctionModel> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Serverless::Function' || !resources.exists(id)) continue;
    const props = { ...globals, ...(resource.Properties ?? {}) };
    const at = (prop: string) =>
      resource.Properties?.[prop] !== undefined ? `Resources.${id}.Properties.${prop}` : `Globals.Function.${prop}`;
    const handler = props.Handler === undefined ? '' : resolver.string(props.Handler, at('Handler'));
    if (!/^.+\.[^./]+$/.test(handler)) throw new TemplateError(at('Handler'), `"${handler}" is not <module>.<export>`);
    const codeUri = props.CodeUri === undefined ? '.' : resolver.resolve(props.CodeUri, at('CodeUri'));
    if (typeof codeUri !== 'string') throw new TemplateError(at('CodeUri'), 'only a local directory can run locally');
    const codeDir = resolve(templateDir, codeUri);
    const metadata = isObject(resource.Metadata) ? resource.Metadata : {};
    const [sourceEntry, sourceEntryPath] = sourceEntryOf(id, codeDir, handler, metadata, resolver);
    const buildProperties =
      metadata.BuildProperties === undefined
        ? undefined
        : resolver.resolve(metadata.BuildProperties, `Resources.${id}.Metadata.BuildProperties`);
    const number = (prop: string, fallback: number) =>
      props[prop] === undefined ? fallback : Number(resolver.string(props[prop], at(prop)));
    const retries = (props.EventInvokeConfig as Record<string, unknown> | undefined)?.MaximumRetryAttempts;
    out[id] = {
      logicalId: id,
      name: resources.ref(id, `Resources.${id}`) as string,
      arn: resources.getAtt(id, 'Arn', `Resources.${id}`) as string,
      runtime: props.Runtime === undefined ? 'nodejs22.x' : resolver.string(props.Runtime, at('Runtime')),
      handler,
      handlerExport: handler.slice(handler.lastIndexOf('.') + 1),
      codeDir,
      sourceEntry,
      sourceEntryPath,
      timeoutSeconds: number('Timeout', LAMBDA_DEFAULT_TIMEOUT_SECONDS),
      memoryMb: number('MemorySize', LAMBDA_DEFAULT_MEMORY_MB),
      environment: environmentOf(resource.Properties ?? {}, globals, resolver, id),
      buildProperties: isObject(buildProperties) ? buildProperties : undefined,
      logging: loggingOf(props.LoggingConfig, resolver, at('LoggingConfig')),
      asyncRetries: retries === undefined ? LAMBDA_DEFAULT_ASYNC_RETRIES : Number(resolver.string(retries, at('EventInvokeConfig'))),
    };
  }
  return out;
}

/** Finds a function by logical id, function name, or a Lambda ARN that ends in its name (with or without a qualifier). */
export function findFunction(functions: Record<string, FunctionModel>, reference: string): FunctionModel | undefined {
  if (functions[reference]) return functions[reference];
  // Lambda accepts full ARNs, partial ARNs (`123456789012:function:name`) and `name:qualifier`.
  const arn = /(?:^|:)function:([^:]+)(?::[^:]+)?$/.exec(reference);
  const name = arn ? arn[1] : reference.split(':')[0];
  return Object.values(functions).find((fn) => fn.name === name || fn.logicalId === name);
}
