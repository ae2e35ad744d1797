/**
 * CloudFormation intrinsic functions, resolved to local values. Resolution is lazy and per
 * property: the local stack resolves only what it runs (routes, functions, tables), so an IAM
 * policy or an alarm that uses something with no local meaning never stops it; what it does need
 * and cannot resolve fails with the template path of the offending property.
 */
import { TemplateError } from '../errors.js';
import type { Template } from './template.js';

/** What `!Ref AWS::NoValue` resolves to: the property (or list element) is dropped. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** How resources look from the resolver: their Ref value and attributes. */
export interface ResourceValues {
  /** `!Ref Resource`: the physical id, or undefined if the resource does not exist (or its Condition is false). */
  ref(logicalId: string, path: string): string | undefined;
  /** `!GetAtt Resource.Attribute`. Throws a TemplateError for attributes with no local value. */
  getAtt(logicalId: string, attribute: string, path: string): unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Resolves intrinsics in template values for one set of parameter values. */
export class Resolver {
  private readonly conditionCache = new Map<string, boolean>();
  private readonly evaluating = new Set<string>();

  constructor(
    private readonly template: Template,
    private readonly parameters: Record<string, string | string[]>,
    private readonly pseudo: Record<string, string | string[]>,
    private readonly resources: ResourceValues,
  ) {}

  /** Resolves every intrinsic in `value`; `path` locates it in the template for errors. */
  resolve(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value.map((v, i) => this.resolve(v, `${path}[${i}]`)).filter((v) => v !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return this.intrinsic(keys[0], value[keys[0]], path);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const resolved = this.resolve(value[key], `${path}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** Resolves `value` and requires a scalar, returned as a string (CloudFormation passes numbers as strings). */
  string(value: unknown, path: string): string {
    const resolved = this.resolve(value, path);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new TemplateError(path, `expected a string, got ${describe(resolved)}`);
  }

  /** Evaluates a named condition of the Conditions section. */
  condition(name: string, path: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    if (!(name in this.template.Conditions)) throw new TemplateError(path, `condition "${name}" is not declared in Conditions`);
    if (this.evaluating.has(name)) throw new TemplateError(`Conditions.${name}`, 'condition refers to itself');
    this.evaluating.add(name);
    try {
      const result = this.conditionExpression(this.template.Conditions[name], `Conditions.${name}`);
      this.conditionCache.set(name, result);
      return result;
    } finally {
      this.evaluating.delete(name);
    }
  }

  private conditionExpression(expr: unknown, path: string): boolean {
    if (isObject(expr) && typeof expr.Condition === 'string' && Object.keys(expr).length === 1) return this.condition(expr.Condition, path);
    const value = this.resolve(expr, path);
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new TemplateError(path, `expected a condition, got ${describe(value)}`);
  }

  private args(name: string, raw: unknown, path: string, count?: number): unknown[] {
    if (!Array.isArray(raw) || (count !== undefined && raw.length !== count)) {
      throw new TemplateError(path, `${name} takes a list${count === undefined ? '' : ` of ${count}`}`);
    }
    return raw;
  }

  private intrinsic(name: string, raw: unknown, path: string): unknown {
    const at = `${path}.${name}`;
    switch (name) {
      case 'Ref':
        return this.ref(this.string(raw, at), at);
      case 'Fn::GetAtt': {
        const [resource, attribute] = typeof raw === 'string' ? raw.split(/\.(.*)/s) : this.args(name, raw, at, 2);
        return this.getAtt(this.string(resource, at), this.string(attribute, at), at);
      }
      case 'Fn::Sub':
        return this.sub(raw, at);
      case 'Fn::Join': {
        const [delimiter, list] = this.args(name, raw, at, 2);
        const items = this.resolve(list, at);
        if (!Array.isArray(items)) throw new TemplateError(at, 'Fn::Join needs a list');
        return items.map((item, i) => this.string(item, `${at}[${i}]`)).join(this.string(delimiter, at));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = this.args(name, raw, at, 3);
        return this.condition(this.string(condition, at), at) ? this.resolve(whenTrue, `${at}[1]`) : this.resolve(whenFalse, `${at}[2]`);
      }
      case 'Fn::Equals': {
        const [a, b] = this.args(name, raw, at, 2).map((v, i) => this.resolve(v, `${at}[${i}]`));
        return JSON.stringify(typeof a === 'number' ? String(a) : a) === JSON.stringify(typeof b === 'number' ? String(b) : b);
      }
      case 'Fn::Not':
        return !this.conditionExpression(this.args(name, raw, at, 1)[0], at);
      case 'Fn::And':
        return this.args(name, raw, at).every((c, i) => this.conditionExpression(c, `${at}[${i}]`));
      case 'Fn::Or':
        return this.args(name, raw, at).some((c, i) => this.conditionExpression(c, `${at}[${i}]`));
      case 'Fn::Select': {
        const [index, list] = this.args(name, raw, at, 2);
        const items = this.resolve(list, at);
        const i = Number(this.string(index, at));
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length)
          throw new TemplateError(at, 'Fn::Select index out of range');
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = this.args(name, raw, at, 2);
        return this.string(source, at).split(this.string(delimiter, at));
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = this.args(name, raw, at).map((v) => this.string(v, at));
        const value = this.template.Mappings[map]?.[top]?.[second];
        if (value === undefined) throw new TemplateError(at, `no mapping ${map}.${top}.${second}`);
        return this.resolve(value, at);
      }
      case 'Fn::Base64':
        return Buffer.from(this.string(raw, at)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.pseudo['AWS::Region']}${zone}`);
      case 'Fn::Length': {
        const items = this.resolve(raw, at);
        if (!Array.isArray(items)) throw new TemplateError(at, 'Fn::Length needs a list');
        return items.length;
      }
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolve(raw, at));
      default:
        throw new TemplateError(at, `${name} has no local value (it needs a deployed AWS account)`);
    }
  }

  private ref(name: string, path: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in this.pseudo) return this.pseudo[name];
    if (name in this.parameters) return this.parameters[name];
    const physical = this.resources.ref(name, path);
    if (physical === undefined)
      throw new TemplateError(path, `Ref to "${name}", which is neither a parameter nor a resource of the template`);
    return physical;
  }

  private getAtt(resource: string, attribute: string, path: string): unknown {
    if (!(resource in this.template.Resources))
      throw new TemplateError(path, `GetAtt of "${resource}", which is not a resource of the template`);
    return this.resources.getAtt(resource, attribute, path);
  }

  private sub(raw: unknown, path: string): string {
    const [text, variables] = Array.isArray(raw) ? this.args('Fn::Sub', raw, path, 2) : [raw, {}];
    if (typeof text !== 'string') throw new TemplateError(path, 'Fn::Sub needs a string');
    const vars = isObject(variables) ? variables : {};
    return text.replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (name in vars) return this.string(vars[name], `${path}.${name}`);
      const dot = name.indexOf('.');
      const value =
        dot > 0 && !(name in this.parameters) ? this.getAtt(name.slice(0, dot), name.slice(dot + 1), path) : this.ref(name, path);
      if (typeof value === 'string' || typeof value === 'number') return String(value);
      if (Array.isArray(value)) return value.join(',');
      throw new TemplateError(path, `\${${name}} has no string value`);
    });
  }
}

function describe(value: unknown): string {
  if (value === NO_VALUE) return 'AWS::NoValue';
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'null' : typeof value === 'object' ? 'a map' : typeof value;
}
