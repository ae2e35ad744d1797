/**
 * Walks template.yaml's IAM: every statement a function or role declares, with its actions and
 * resources in a comparable text form (intrinsic functions rendered, `Fn::If` branches kept).
 */

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is free-form.
type Node = any;

export interface Statement {
  /** The resource that declares it (a function or a role). */
  owner: string;
  effect: string;
  actions: string[];
  /** Resources as text: a Sub string, `GetAtt:Table.Arn`, `Ref:X`, or the literal. */
  resources: string[];
  condition?: Node;
}

/** Renders an intrinsic value as text, so tests can compare ARNs written with Sub, GetAtt or Ref. */
export function render(value: Node): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    if ('Fn::Sub' in value) return Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'][0] : value['Fn::Sub'];
    if ('Fn::GetAtt' in value) return `GetAtt:${[value['Fn::GetAtt']].flat().join('.')}`;
    if ('Ref' in value) return `Ref:${value.Ref}`;
  }
  return JSON.stringify(value);
}

const list = (value: Node): Node[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Both branches of an `Fn::If` (dropping `AWS::NoValue`), or the value itself. */
function branches(value: Node): Node[] {
  if (value && typeof value === 'object' && 'Fn::If' in value) {
    const [, yes, no] = value['Fn::If'];
    return [...branches(yes), ...branches(no)];
  }
  if (value && typeof value === 'object' && value.Ref === 'AWS::NoValue') return [];
  return [value];
}

function statementsOf(owner: string, document: Node): Statement[] {
  return list(document?.Statement)
    .flatMap(branches)
    .map((s: Node) => ({
      owner,
      effect: s.Effect,
      actions: list(s.Action).map(render),
      resources: list(s.Resource).flatMap(branches).map(render),
      condition: s.Condition,
    }));
}

export interface PolicyReview {
  statements: Statement[];
  /** Policies that are not inline statements (SAM policy templates, managed policy names): unreviewable here. */
  opaque: Array<{ owner: string; policy: Node }>;
}

/** Every IAM statement declared by a function (SAM `Policies`), a role, or a policy resource. */
export function reviewPolicies(template: Node): PolicyReview {
  const statements: Statement[] = [];
  const opaque: PolicyReview['opaque'] = [];
  for (const [name, resource] of Object.entries<Node>(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Serverless::Function') {
      for (const policy of list(props.Policies).flatMap(branches)) {
        if (policy && typeof policy === 'object' && 'Statement' in policy) statements.push(...statementsOf(name, policy));
        else opaque.push({ owner: name, policy });
      }
    } else if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of list(props.Policies)) statements.push(...statementsOf(name, policy.PolicyDocument));
      for (const arn of list(props.ManagedPolicyArns)) opaque.push({ owner: name, policy: render(arn) });
    } else if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      statements.push(...statementsOf(name, props.PolicyDocument));
    }
  }
  return { statements, opaque };
}

/** Names of the template's resources of one type. */
export function resourcesOfType(template: Node, type: string): string[] {
  return Object.entries<Node>(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([name]) => name);
}
