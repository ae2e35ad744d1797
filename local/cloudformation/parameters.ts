/**
 * Template parameters: defaults, `--parameter-overrides` (sam deploy's syntax), and the checks
 * CloudFormation makes before it deploys (AllowedValues, AllowedPattern, Min/Max), so a value
 * that AWS would refuse is refused here too, before anything runs.
 */
import { ParameterError } from '../errors.js';
import type { ParameterDefinition, Template } from './template.js';

/**
 * Parses `--parameter-overrides` arguments. Each argument may hold one or more space-separated
 * `Key=Value` pairs (`sam deploy` accepts both forms), values may be quoted
 * (`Key="a b"`), and `ParameterKey=K,ParameterValue=V` is accepted too.
 *
 * @example parseParameterOverrides(['AuthMode=none', 'AllowedOrigins=* LogLevel=DEBUG'])
 */
export function parseParameterOverrides(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    for (const token of splitOutsideQuotes(arg)) {
      const long = /^ParameterKey=([^,]+),ParameterValue=(.*)$/s.exec(token);
      const eq = token.indexOf('=');
      if (!long && eq <= 0) throw new ParameterError(`parameter override "${token}" is not Key=Value`);
      const key = long ? long[1] : token.slice(0, eq);
      out[key] = unquote(long ? long[2] : token.slice(eq + 1));
    }
  }
  return out;
}

function splitOutsideQuotes(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (/\s/.test(ch)) {
      if (current) tokens.push(current);
      current = '';
    } else current += ch;
  }
  if (quote) throw new ParameterError(`unbalanced quote in parameter overrides: ${text}`);
  if (current) tokens.push(current);
  return tokens;
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2] : value;
}

function check(name: string, def: ParameterDefinition, value: string): string | string[] {
  const fail = (why: string) => new ParameterError(`parameter ${name}=${JSON.stringify(value)}: ${why}`);
  if (def.AllowedValues && !def.AllowedValues.map(String).includes(value)) {
    throw fail(`must be one of ${def.AllowedValues.map(String).join(', ')}`);
  }
  if (def.AllowedPattern && !new RegExp(`^(?:${def.AllowedPattern})$`).test(value)) throw fail(`must match ${def.AllowedPattern}`);
  if (def.MinLength !== undefined && value.length < def.MinLength) throw fail(`must be at least ${def.MinLength} characters`);
  if (def.MaxLength !== undefined && value.length > def.MaxLength) throw fail(`must be at most ${def.MaxLength} characters`);
  if (def.Type === 'Number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw fail('must be a number');
    if (def.MinValue !== undefined && n < def.MinValue) throw fail(`must be >= ${def.MinValue}`);
    if (def.MaxValue !== undefined && n > def.MaxValue) throw fail(`must be <= ${def.MaxValue}`);
  }
  if (def.Type === 'CommaDelimitedList' || def.Type.startsWith('List<')) return value === '' ? [] : value.split(',').map((s) => s.trim());
  return value;
}

/**
 * The value of every parameter: its override, else its default. Unknown override keys and
 * parameters with neither are errors that list what the template declares.
 */
export function resolveParameters(template: Template, overrides: Record<string, string>): Record<string, string | string[]> {
  const declared = Object.keys(template.Parameters);
  for (const key of Object.keys(overrides)) {
    if (!(key in template.Parameters)) {
      throw new ParameterError(`unknown parameter "${key}"; the template's parameters are: ${declared.join(', ') || '(none)'}`);
    }
  }
  const values: Record<string, string | string[]> = {};
  for (const [name, def] of Object.entries(template.Parameters)) {
    const raw =
      overrides[name] ?? (def.Default === undefined ? undefined : Array.isArray(def.Default) ? def.Default.join(',') : String(def.Default));
    if (raw === undefined) throw new ParameterError(`parameter ${name} has no Default: pass --parameter-overrides ${name}=<value>`);
    values[name] = check(name, def, raw);
  }
  return values;
}
