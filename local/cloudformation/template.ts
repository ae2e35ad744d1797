/**
 * Reading a CloudFormation/SAM template (YAML or JSON). The short-form tags (`!Ref`, `!Sub`,
 * `!GetAtt A.B`, ...) become the long form (`{ Ref }`, `{ 'Fn::Sub' }`, `{ 'Fn::GetAtt': [A, B] }`)
 * so the resolver (intrinsics.ts) deals with one shape only.
 */
import { readFileSync } from 'node:fs';
import { type CollectionTag, parse, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';
import { TemplateError } from '../errors.js';

/** A template parameter's declaration. */
export interface ParameterDefinition {
  Type: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinValue?: number;
  MaxValue?: number;
  MinLength?: number;
  MaxLength?: number;
  Description?: string;
}

/** One resource: only the fields the local stack reads. */
export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
}

/** A parsed template, intrinsics still unresolved. */
export interface Template {
  Parameters: Record<string, ParameterDefinition>;
  Conditions: Record<string, unknown>;
  Mappings: Record<string, Record<string, Record<string, unknown>>>;
  Globals: { Function?: Record<string, unknown> };
  Resources: Record<string, TemplateResource>;
  Outputs: Record<string, { Value: unknown; Condition?: string }>;
}

/** Short-form tags and the long-form key each stands for. */
const INTRINSIC_TAGS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  GetAtt: 'Fn::GetAtt',
  Sub: 'Fn::Sub',
  Join: 'Fn::Join',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  Not: 'Fn::Not',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  FindInMap: 'Fn::FindInMap',
  ImportValue: 'Fn::ImportValue',
  Base64: 'Fn::Base64',
  GetAZs: 'Fn::GetAZs',
  Cidr: 'Fn::Cidr',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
};

function longForm(tag: string, key: string, value: unknown): Record<string, unknown> {
  // `!GetAtt Res.Attr` is the only short form whose scalar splits into a list.
  if (tag === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { [key]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [key]: value };
}

const customTags: Array<ScalarTag | CollectionTag> = Object.entries(INTRINSIC_TAGS).flatMap(([tag, key]) => [
  { tag: `!${tag}`, resolve: (value: string) => longForm(tag, key, value) } as ScalarTag,
  {
    tag: `!${tag}`,
    collection: 'seq',
    resolve: (value: YAMLSeq.Parsed) => longForm(tag, key, value.toJSON()),
  } as unknown as CollectionTag,
  {
    tag: `!${tag}`,
    collection: 'map',
    resolve: (value: YAMLMap.Parsed) => longForm(tag, key, value.toJSON()),
  } as unknown as CollectionTag,
]);

/** Parses template text; `source` names it in errors. */
export function parseTemplate(text: string, source = 'template'): Template {
  let raw: unknown;
  try {
    // `uniqueKeys` as CloudFormation: a duplicated key is an error, not a silent override.
    raw = parse(text, { customTags, uniqueKeys: true, maxAliasCount: 1000 });
  } catch (error) {
    throw new TemplateError('', `${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new TemplateError('', `${source} is not a template (no top-level map)`);
  const t = raw as Partial<Template>;
  if (!t.Resources || typeof t.Resources !== 'object') throw new TemplateError('Resources', `${source} has no Resources`);
  for (const [id, resource] of Object.entries(t.Resources)) {
    if (!resource || typeof resource !== 'object' || typeof resource.Type !== 'string') {
      throw new TemplateError(`Resources.${id}`, 'a resource needs a Type');
    }
  }
  return {
    Parameters: t.Parameters ?? {},
    Conditions: t.Conditions ?? {},
    Mappings: t.Mappings ?? {},
    Globals: t.Globals ?? {},
    Resources: t.Resources,
    Outputs: t.Outputs ?? {},
  };
}

/** Reads and parses a template file. */
export function loadTemplate(path: string): Template {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TemplateError('', `cannot read template ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseTemplate(text, path);
}
