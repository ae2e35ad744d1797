// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are written as the template writes them.
import { expect } from 'chai';
import { NO_VALUE, Resolver } from '../../../local/cloudformation/intrinsics.js';
import { LocalResources } from '../../../local/cloudformation/resources.js';
import { parseTemplate } from '../../../local/cloudformation/template.js';
import { TemplateError } from '../../../local/errors.js';

const TEMPLATE = `
Parameters:
  Stage: { Type: String, Default: dev }
  Empty: { Type: String, Default: "" }
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  HasEmpty: !Not [!Equals [!Ref Empty, ""]]
  Both: !And [!Condition IsDev, !Not [!Condition HasEmpty]]
  Either: !Or [!Condition HasEmpty, !Condition IsDev]
  Loop: !Not [!Condition Loop]
Mappings:
  Sizes:
    dev: { Memory: 128 }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "\${AWS::StackName}-fn"
  Table:
    Type: AWS::DynamoDB::Table
  Api:
    Type: AWS::ApiGatewayV2::Api
  Route:
    Type: AWS::ApiGatewayV2::Route
  Queue:
    Type: AWS::SQS::Queue
  OnlyInProd:
    Type: AWS::SQS::Queue
    Condition: HasEmpty
`;

function resolver(parameters: Record<string, string> = { Stage: 'dev', Empty: '' }) {
  const template = parseTemplate(TEMPLATE);
  const resources = new LocalResources(template, 'stack', 'us-east-1');
  const r = new Resolver(template, parameters, { 'AWS::StackName': 'stack', 'AWS::Region': 'us-east-1' }, resources);
  resources.bind(r);
  return r;
}

describe('local/intrinsics', () => {
  describe('Resolver.resolve', () => {
    it('resolves Ref to parameters, pseudo parameters and local physical ids', () => {
      const r = resolver();
      expect(r.resolve({ Ref: 'Stage' }, 'p')).to.equal('dev');
      expect(r.resolve({ Ref: 'AWS::Region' }, 'p')).to.equal('us-east-1');
      expect(r.resolve({ Ref: 'Fn' }, 'p')).to.equal('stack-fn');
      expect(r.resolve({ Ref: 'Table' }, 'p')).to.equal('stack-Table');
      expect(r.resolve({ Ref: 'Route' }, 'p')).to.equal('Route');
      expect(r.resolve({ Ref: 'Api' }, 'p')).to.match(/^[a-z0-9]{10}$/);
    });

    it('resolves GetAtt to local ARNs', () => {
      const r = resolver();
      expect(r.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] }, 'p')).to.equal('arn:aws:lambda:us-east-1:123456789012:function:stack-fn');
      expect(r.resolve({ 'Fn::GetAtt': ['Table', 'Arn'] }, 'p')).to.equal('arn:aws:dynamodb:us-east-1:123456789012:table/stack-Table');
      expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }, 'p')).to.equal('arn:aws:sqs:us-east-1:123456789012:stack-Queue');
    });

    it('substitutes names, attributes, variables and keeps ${!Literal} literal', () => {
      const r = resolver();
      expect(r.resolve({ 'Fn::Sub': '${AWS::StackName}/${Stage}/${Fn.Arn}/${!Keep}' }, 'p')).to.equal(
        'stack/dev/arn:aws:lambda:us-east-1:123456789012:function:stack-fn/${Keep}',
      );
      expect(r.resolve({ 'Fn::Sub': ['${a}-${Stage}', { a: { Ref: 'Table' } }] }, 'p')).to.equal('stack-Table-dev');
    });

    it('joins, selects, splits and finds in maps', () => {
      const r = resolver();
      expect(r.resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }]] }, 'p')).to.equal('a-dev');
      expect(r.resolve({ 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] }, 'p')).to.equal('y');
      expect(r.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] }, 'p')).to.equal(128);
    });

    it('evaluates conditions and picks the If branch', () => {
      const r = resolver();
      expect(r.condition('IsDev', 'p')).to.equal(true);
      expect(r.condition('Both', 'p')).to.equal(true);
      expect(r.condition('Either', 'p')).to.equal(true);
      expect(r.resolve({ 'Fn::If': ['HasEmpty', 'yes', 'no'] }, 'p')).to.equal('no');
      expect(resolver({ Stage: 'prod', Empty: 'x' }).condition('Both', 'p')).to.equal(false);
    });

    it('drops properties and list items that resolve to AWS::NoValue', () => {
      const r = resolver();
      const value = { keep: 1, drop: { 'Fn::If': ['HasEmpty', 2, { Ref: 'AWS::NoValue' }] }, list: [1, { Ref: 'AWS::NoValue' }, 3] };
      expect(r.resolve(value, 'p')).to.deep.equal({ keep: 1, list: [1, 3] });
      expect(r.resolve({ Ref: 'AWS::NoValue' }, 'p')).to.equal(NO_VALUE);
    });

    it('names the property when a Ref points nowhere', () => {
      expect(() => resolver().resolve({ Ref: 'Nope' }, 'Resources.X.Properties.Y')).to.throw(
        TemplateError,
        'Resources.X.Properties.Y.Ref: Ref to "Nope", which is neither a parameter nor a resource of the template',
      );
    });

    it('names the property when an intrinsic needs a deployed account', () => {
      expect(() => resolver().resolve({ 'Fn::ImportValue': 'shared' }, 'Resources.X.Properties.Y')).to.throw(
        TemplateError,
        'Resources.X.Properties.Y.Fn::ImportValue: Fn::ImportValue has no local value',
      );
    });

    it('refuses Refs to resources whose Condition is false', () => {
      expect(() => resolver().resolve({ Ref: 'OnlyInProd' }, 'p')).to.throw(TemplateError, /OnlyInProd/);
    });

    it('refuses a condition that refers to itself', () => {
      expect(() => resolver().condition('Loop', 'p')).to.throw(TemplateError, 'Conditions.Loop: condition refers to itself');
    });
  });
});
