/** Reads template.yaml with CloudFormation's short-form tags kept as plain objects. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type Tags } from 'yaml';

const TAGS = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'Base64',
  'GetAZs',
  'Condition',
];

const customTags: Tags = TAGS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const resolve = (value: unknown) => ({ [key]: name === 'GetAtt' && typeof value === 'string' ? value.split('.') : value });
  return [
    { tag: `!${name}`, resolve: (value: string) => resolve(value) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (value: { toJSON(): unknown }) => resolve(value.toJSON()) },
    { tag: `!${name}`, collection: 'map' as const, resolve: (value: { toJSON(): unknown }) => resolve(value.toJSON()) },
  ];
});

export const TEMPLATE_PATH = fileURLToPath(new URL('../../template.yaml', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is free-form.
export function loadTemplate(path = TEMPLATE_PATH): any {
  return parse(readFileSync(path, 'utf8'), { customTags });
}
