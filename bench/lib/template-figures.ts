/**
 * The figures the cost model, the README and the docs state about what template.yaml deploys,
 * read from template.yaml itself: parameter defaults (and their bounds), and each function's
 * memory, timeout and logging (Globals merged with the function's own properties, as SAM does).
 * Nothing here repeats a number of the template, so a changed default changes every reader.
 */
import { fileURLToPath } from 'node:url';
import { loadTemplate, type Template } from '../../local/cloudformation/template.js';

export const TEMPLATE_PATH = fileURLToPath(new URL('../../template.yaml', import.meta.url));

/** What one function deploys with (template values; Lambda's defaults where neither sets one). */
export interface FunctionFigures {
  memoryMb: number;
  timeoutSeconds: number;
  /** LoggingConfig.ApplicationLogLevel as a parameter name (`LogLevel`) or a literal level. */
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logFormat?: string;
  /** ReservedConcurrentExecutions, as the parameter it refers to. */
  reservedConcurrencyParameter?: string;
  /** EventInvokeConfig: retries of a failed async invocation and the longest an event may wait. */
  maxRetryAttempts?: number;
  maxEventAgeSeconds?: number;
}

export interface TemplateFigures {
  /** Every parameter's default as written (a string or a number). */
  defaults: Record<string, string | number>;
  /** MinValue / MaxValue of the parameters that have them. */
  bounds: Record<string, { min?: number; max?: number }>;
  /** By logical id, every AWS::Serverless::Function. */
  functions: Record<string, FunctionFigures>;
}

/** Lambda's defaults when neither the function nor Globals set a value. */
const LAMBDA_DEFAULT_MEMORY_MB = 128;
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A literal, or the name of the parameter a `!Ref` (or an `!If` whose branches agree on one) points at. */
function refName(value: unknown): string | undefined {
  if (!isObject(value)) return typeof value === 'string' ? value : undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const branches = value['Fn::If'];
  if (Array.isArray(branches)) return refName(branches[1]);
  return undefined;
}

/** A number from a literal or a `!Ref` to a parameter with a numeric default. */
function numberOf(value: unknown, defaults: TemplateFigures['defaults'], what: string): number {
  const name = refName(value);
  const raw = typeof value === 'number' ? value : name !== undefined && name in defaults ? defaults[name] : name;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`template.yaml: ${what} is not a number (${JSON.stringify(value)})`);
  return n;
}

/** Reads the figures of a template (template.yaml by default). */
export function templateFigures(template: Template | string = TEMPLATE_PATH): TemplateFigures {
  const t = typeof template === 'string' ? loadTemplate(template) : template;
  const defaults: TemplateFigures['defaults'] = {};
  const bounds: TemplateFigures['bounds'] = {};
  for (const [name, p] of Object.entries(t.Parameters)) {
    const definition = p as unknown as Record<string, unknown>;
    if (typeof definition.Default === 'string' || typeof definition.Default === 'number') defaults[name] = definition.Default;
    if (definition.MinValue !== undefined || definition.MaxValue !== undefined) {
      bounds[name] = {
        min: definition.MinValue === undefined ? undefined : Number(definition.MinValue),
        max: definition.MaxValue === undefined ? undefined : Number(definition.MaxValue),
      };
    }
  }
  const globals = t.Globals.Function ?? {};
  const functions: TemplateFigures['functions'] = {};
  for (const [id, resource] of Object.entries(t.Resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const props = { ...globals, ...(resource.Properties ?? {}) };
    const logging = isObject(props.LoggingConfig) ? props.LoggingConfig : {};
    const invoke = isObject(props.EventInvokeConfig) ? props.EventInvokeConfig : {};
    const optional = (value: unknown, what: string) => (value === undefined ? undefined : numberOf(value, defaults, `${id} ${what}`));
    functions[id] = {
      memoryMb: props.MemorySize === undefined ? LAMBDA_DEFAULT_MEMORY_MB : numberOf(props.MemorySize, defaults, `${id} MemorySize`),
      timeoutSeconds: props.Timeout === undefined ? LAMBDA_DEFAULT_TIMEOUT_SECONDS : numberOf(props.Timeout, defaults, `${id} Timeout`),
      applicationLogLevel: refName(logging.ApplicationLogLevel),
      systemLogLevel: refName(logging.SystemLogLevel),
      logFormat: refName(logging.LogFormat),
      reservedConcurrencyParameter: refName(props.ReservedConcurrentExecutions),
      maxRetryAttempts: optional(invoke.MaximumRetryAttempts, 'MaximumRetryAttempts'),
      maxEventAgeSeconds: optional(invoke.MaximumEventAgeInSeconds, 'MaximumEventAgeInSeconds'),
    };
  }
  return { defaults, bounds, functions };
}

/** A parameter's default as a number; throws when it has none. */
export function numericDefault(figures: TemplateFigures, name: string): number {
  const n = Number(figures.defaults[name]);
  if (figures.defaults[name] === undefined || figures.defaults[name] === '' || !Number.isFinite(n)) {
    throw new Error(`template.yaml has no numeric default for ${name}`);
  }
  return n;
}

/** A function's log level: a parameter's default when LoggingConfig refers to one, else the literal. */
export function levelOf(figures: TemplateFigures, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value in figures.defaults ? String(figures.defaults[value]) : value;
}
