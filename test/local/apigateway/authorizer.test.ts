import { expect } from 'chai';
import { arnMatches, authorizerDecision, missingIdentitySource } from '../../../local/apigateway/authorizer.js';
import type { InvokeResult } from '../../../local/lambda/runtime.js';

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc/dev/$connect';
const ok = (payload: unknown): InvokeResult => ({ requestId: 'r', ok: true, payload: JSON.stringify(payload) });
const policy = (effect: string, resource = ARN, context?: unknown) => ({
  principalId: 'user-1',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
  context,
});

describe('local/authorizer', () => {
  describe('authorizerDecision', () => {
    it('allows, passing the context and principalId on', () => {
      expect(authorizerDecision(ok(policy('Allow', ARN, { principal: 'user-1', join: '*' })), ARN)).to.deep.equal({
        allow: true,
        context: { principal: 'user-1', join: '*', principalId: 'user-1' },
      });
    });

    it('answers 403 on Deny', () => {
      expect(authorizerDecision(ok(policy('Deny')), ARN)).to.deep.include({ allow: false, status: 403 });
    });

    it('answers 403 when the Allow does not cover the methodArn (a …/*/* resource does not match $connect)', () => {
      expect(authorizerDecision(ok(policy('Allow', 'arn:aws:execute-api:us-east-1:123456789012:abc/dev/*/*')), ARN)).to.deep.include({
        status: 403,
      });
    });

    it("answers 401 when the authorizer throws 'Unauthorized' and 500 on any other failure", () => {
      const failed = (errorMessage: string): InvokeResult => ({
        requestId: 'r',
        ok: false,
        payload: '{}',
        error: { errorType: 'Error', errorMessage },
      });
      expect(authorizerDecision(failed('Unauthorized'), ARN)).to.deep.include({ status: 401 });
      expect(authorizerDecision(failed('boom'), ARN)).to.deep.include({ status: 500 });
    });

    it('answers 500 for a nested context value or a missing policy, as API Gateway does', () => {
      expect(authorizerDecision(ok(policy('Allow', ARN, { rights: { join: '*' } })), ARN)).to.deep.include({ status: 500 });
      expect(authorizerDecision(ok({ principalId: 'x' }), ARN)).to.deep.include({ status: 500 });
    });
  });

  describe('arnMatches', () => {
    it('matches * across slashes and ? as one character', () => {
      expect(arnMatches('arn:aws:execute-api:*:*:abc/*', ARN)).to.equal(true);
      expect(arnMatches('arn:aws:execute-api:us-east-1:123456789012:abc/de?/$connect', ARN)).to.equal(true);
      expect(arnMatches('arn:aws:execute-api:us-east-1:123456789012:abc/prod/$connect', ARN)).to.equal(false);
    });
  });

  describe('missingIdentitySource', () => {
    const request = {
      headers: { Authorization: 'x', 'X-Empty': '' },
      queryStringParameters: { token: 't', blank: '' },
      stageVariables: { gate: 'open' },
      requestContext: { connectionId: 'L0SM9cOFvHcCIhw=', routeKey: '$connect', identity: { sourceIp: '127.0.0.1' } },
    };
    it('finds headers case-insensitively and query keys exactly', () => {
      expect(missingIdentitySource(['route.request.header.authorization', 'route.request.querystring.token'], request)).to.equal(false);
      expect(missingIdentitySource(['route.request.querystring.Token'], request)).to.equal(true);
      expect(missingIdentitySource(['route.request.header.X-Key'], request)).to.equal(true);
    });

    it('counts an empty value as missing, as API Gateway does', () => {
      expect(missingIdentitySource(['route.request.header.X-Empty'], request)).to.equal(true);
      expect(missingIdentitySource(['route.request.querystring.blank'], request)).to.equal(true);
    });

    it('reads stage variables and context variables, nested ones included', () => {
      expect(missingIdentitySource(['stageVariables.gate', 'context.connectionId', 'context.identity.sourceIp'], request)).to.equal(false);
      expect(missingIdentitySource(['stageVariables.other'], request)).to.equal(true);
      expect(missingIdentitySource(['context.authorizer.principalId'], request)).to.equal(true);
      // Own properties only: a name on Object.prototype is no context variable.
      expect(missingIdentitySource(['context.constructor'], request)).to.equal(true);
    });

    it('needs every listed source', () => {
      expect(missingIdentitySource(['context.connectionId', 'route.request.header.X-Key'], request)).to.equal(true);
      expect(missingIdentitySource([], request)).to.equal(false);
    });
  });
});
