import { expect } from 'chai';
import { parseParameterOverrides, resolveParameters } from '../../../local/cloudformation/parameters.js';
import { parseTemplate } from '../../../local/cloudformation/template.js';
import { ParameterError } from '../../../local/errors.js';

const template = parseTemplate(`
Parameters:
  Mode: { Type: String, Default: none, AllowedValues: [none, jwt] }
  Stage: { Type: String, Default: dev, AllowedPattern: "[a-z]+" }
  Size: { Type: Number, Default: 10, MinValue: 1, MaxValue: 100 }
  List: { Type: CommaDelimitedList, Default: "a,b" }
  Required: { Type: String }
Resources:
  A: { Type: X }
`);

describe('local/parameters', () => {
  describe('parseParameterOverrides', () => {
    it('reads one Key=Value per argument', () => {
      expect(parseParameterOverrides(['AuthMode=none', 'AllowedOrigins=*'])).to.deep.equal({ AuthMode: 'none', AllowedOrigins: '*' });
    });

    it('reads several pairs in one quoted argument, as sam deploy does', () => {
      expect(parseParameterOverrides(['AuthMode=none AllowedOrigins=https://a.example,https://b.example'])).to.deep.equal({
        AuthMode: 'none',
        AllowedOrigins: 'https://a.example,https://b.example',
      });
    });

    it('keeps quoted values with spaces and = signs whole', () => {
      expect(parseParameterOverrides(['Greeting="hello world" Expr=a=b'])).to.deep.equal({ Greeting: 'hello world', Expr: 'a=b' });
    });

    it('reads the ParameterKey=,ParameterValue= form', () => {
      expect(parseParameterOverrides(['ParameterKey=Mode,ParameterValue=jwt'])).to.deep.equal({ Mode: 'jwt' });
    });

    it('refuses a token that is not Key=Value', () => {
      expect(() => parseParameterOverrides(['AuthMode'])).to.throw(ParameterError, 'parameter override "AuthMode" is not Key=Value');
    });
  });

  describe('resolveParameters', () => {
    it('uses defaults, then overrides, and splits lists', () => {
      const values = resolveParameters(template, { Required: 'x', Mode: 'jwt' });
      expect(values).to.deep.equal({ Mode: 'jwt', Stage: 'dev', Size: '10', List: ['a', 'b'], Required: 'x' });
    });

    it('names the template parameters when an override key is unknown', () => {
      expect(() => resolveParameters(template, { Required: 'x', Nope: '1' })).to.throw(
        ParameterError,
        'unknown parameter "Nope"; the template\'s parameters are: Mode, Stage, Size, List, Required',
      );
    });

    it('refuses values CloudFormation would refuse', () => {
      expect(() => resolveParameters(template, { Required: 'x', Mode: 'basic' })).to.throw(ParameterError, 'must be one of none, jwt');
      expect(() => resolveParameters(template, { Required: 'x', Stage: 'Dev1' })).to.throw(ParameterError, 'must match [a-z]+');
      expect(() => resolveParameters(template, { Required: 'x', Size: '0' })).to.throw(ParameterError, 'must be >= 1');
      expect(() => resolveParameters(template, { Required: 'x', Size: 'ten' })).to.throw(ParameterError, 'must be a number');
    });

    it('asks for a parameter that has no default', () => {
      expect(() => resolveParameters(template, {})).to.throw(
        ParameterError,
        'parameter Required has no Default: pass --parameter-overrides Required=<value>',
      );
    });
  });
});
