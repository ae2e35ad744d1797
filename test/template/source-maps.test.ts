/**
 * The SourceMaps parameter (issue 14): every bundle ships a source map without the sources'
 * text, and Node reads it only when the parameter turns `--enable-source-maps` on. NODE_OPTIONS
 * must be set in each function's own Environment: `sam build` adds `--enable-source-maps` to
 * every function with `Sourcemap: true` that does not set NODE_OPTIONS itself (a Globals value
 * does not count), which would ignore the parameter.
 */
import { expect } from 'chai';
import { buildStackModel } from '../../local/cloudformation/stack-model.js';
import { esbuildOptions } from '../../local/lambda/build.js';
import { loadTemplate, TEMPLATE_PATH } from '../helpers/template.js';

const template = loadTemplate();
const functionIds = Object.entries(template.Resources as Record<string, { Type: string }>)
  .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
  .map(([id]) => id);

describe('template: SourceMaps parameter', () => {
  it('is off by default', () => {
    expect(template.Parameters.SourceMaps).to.deep.include({ Type: 'String', Default: 'false', AllowedValues: ['true', 'false'] });
    expect(template.Conditions.SourceMapsOn).to.deep.equal({ 'Fn::Equals': [{ Ref: 'SourceMaps' }, 'true'] });
  });

  it("sets NODE_OPTIONS in every function's own Environment, never in Globals", () => {
    expect(template.Globals.Function.Environment.Variables).not.to.have.property('NODE_OPTIONS');
    expect(functionIds).to.have.length.greaterThan(5);
    for (const id of functionIds) {
      const variables = template.Resources[id].Properties.Environment?.Variables;
      expect(variables?.NODE_OPTIONS, id).to.deep.equal({ 'Fn::If': ['SourceMapsOn', '--enable-source-maps', { Ref: 'AWS::NoValue' }] });
    }
  });

  it('builds every bundle with a source map that leaves the sources out', () => {
    for (const id of functionIds) {
      const properties = template.Resources[id].Metadata.BuildProperties;
      expect(properties.Sourcemap, id).to.equal(true);
      // A string: sam build passes it as `--sources-content=<value>`, and esbuild takes only "false" or "true".
      expect(properties.SourcesContent, id).to.equal('false');
    }
    const model = buildStackModel({ templatePath: TEMPLATE_PATH });
    expect(esbuildOptions(model.functions.PingFunction, '/out')).to.deep.include({ sourcemap: true, sourcesContent: false });
  });

  for (const [value, expected] of [
    ['false', undefined],
    ['true', '--enable-source-maps'],
  ] as const) {
    it(`SourceMaps=${value} gives every function NODE_OPTIONS ${expected ?? '(none)'}`, () => {
      const model = buildStackModel({ templatePath: TEMPLATE_PATH, parameterOverrides: { SourceMaps: value } });
      for (const fn of Object.values(model.functions)) expect(fn.environment.NODE_OPTIONS, fn.logicalId).to.equal(expected);
    });
  }
});
