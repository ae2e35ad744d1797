/**
 * The local stack's error taxonomy (a development tool, so apart from shared/errors.ts, which is
 * the deployed code's client-facing one). Every error a developer sees when the stack refuses to
 * start names the template resource, property or option at fault.
 */

/** Base class: something the local stack cannot do with the given template or options. */
export class LocalStackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalStackError';
  }
}

/**
 * The template cannot be run locally: a missing resource, an intrinsic that has no local value,
 * an unsupported integration. `path` is where in the template (`Resources.X.Properties.Y`).
 */
export class TemplateError extends LocalStackError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(path ? `${path}: ${message}` : message, options);
    this.name = 'TemplateError';
    this.path = path;
  }
}

/** A parameter override is unknown or breaks the parameter's constraints (as CloudFormation would refuse it). */
export class ParameterError extends LocalStackError {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterError';
  }
}

/** A command-line option is unknown or malformed. */
export class UsageError extends LocalStackError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
