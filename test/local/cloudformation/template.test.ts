// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are written as the template writes them.
import { expect } from 'chai';
import { loadTemplate, parseTemplate } from '../../../local/cloudformation/template.js';
import { TemplateError } from '../../../local/errors.js';
import { TEMPLATE } from '../support.js';

describe('local/template', () => {
  describe('parseTemplate', () => {
    it('turns short-form tags into the long form', () => {
      const t = parseTemplate(`
Resources:
  A:
    Type: X
    Properties:
      Ref1: !Ref Param
      Att: !GetAtt Res.Arn
      Deep: !GetAtt Res.Endpoint.Address
      Sub: !Sub "\${AWS::StackName}-x"
      SubList: !Sub ["\${a}", { a: 1 }]
      Join: !Join [",", [a, b]]
      If: !If [Cond, 1, 2]
`);
      expect(t.Resources.A.Properties).to.deep.equal({
        Ref1: { Ref: 'Param' },
        Att: { 'Fn::GetAtt': ['Res', 'Arn'] },
        Deep: { 'Fn::GetAtt': ['Res', 'Endpoint.Address'] },
        Sub: { 'Fn::Sub': '${AWS::StackName}-x' },
        SubList: { 'Fn::Sub': ['${a}', { a: 1 }] },
        Join: { 'Fn::Join': [',', ['a', 'b']] },
        If: { 'Fn::If': ['Cond', 1, 2] },
      });
    });

    it('fills the sections a template may leave out', () => {
      const t = parseTemplate('Resources:\n  A:\n    Type: X\n');
      expect(t.Parameters).to.deep.equal({});
      expect(t.Conditions).to.deep.equal({});
      expect(t.Globals).to.deep.equal({});
      expect(t.Outputs).to.deep.equal({});
    });

    it('refuses a template without Resources, naming the section', () => {
      expect(() => parseTemplate('Parameters: {}\n')).to.throw(TemplateError, /Resources/);
    });

    it('refuses a resource without a Type, naming the resource', () => {
      expect(() => parseTemplate('Resources:\n  Broken:\n    Properties: {}\n')).to.throw(
        TemplateError,
        'Resources.Broken: a resource needs a Type',
      );
    });

    it('refuses duplicated keys as CloudFormation does', () => {
      expect(() => parseTemplate('Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n')).to.throw(TemplateError, /not valid YAML/);
    });
  });

  describe('loadTemplate', () => {
    it('reads the project template with its WebSocket API', () => {
      const t = loadTemplate(TEMPLATE);
      expect(t.Resources.WebSocketApi.Type).to.equal('AWS::ApiGatewayV2::Api');
      expect(t.Globals.Function).to.have.property('Environment');
    });

    it('names the file it cannot read', () => {
      expect(() => loadTemplate('/nonexistent/template.yaml')).to.throw(TemplateError, '/nonexistent/template.yaml');
    });
  });
});
