import { expect } from 'chai';
import {
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  messageEvent,
  selectRouteKey,
} from '../../../local/apigateway/websocket-events.js';

const connection = {
  connectionId: 'L0SM9cOFvHcCIhw=',
  connectedAt: 1_700_000_000_000,
  sourceIp: '127.0.0.1',
  userAgent: 'test',
  domainName: '127.0.0.1:3001',
  stage: 'dev',
  apiId: 'abcdefghij',
  authorizer: { principal: 'anonymous', principalId: 'anonymous' },
};

describe('local/websocket-events', () => {
  describe('selectRouteKey', () => {
    it('selects the value at the expression path', () => {
      expect(selectRouteKey(['action'], '{"action":"joinchannel"}', false)).to.equal('joinchannel');
      expect(selectRouteKey(['meta', 'type'], '{"meta":{"type":"x"}}', false)).to.equal('x');
    });

    it('selects nothing (→ $default) for non-JSON, binary, missing and non-scalar values', () => {
      expect(selectRouteKey(['action'], 'hello', false)).to.equal(undefined);
      expect(selectRouteKey(['action'], '{"action":"ping"}', true)).to.equal(undefined);
      expect(selectRouteKey(['action'], '{"other":1}', false)).to.equal(undefined);
      expect(selectRouteKey(['action'], '{"action":{"a":1}}', false)).to.equal(undefined);
      expect(selectRouteKey(['action'], '[1]', false)).to.equal(undefined);
    });

    it('never selects a $ route or an inherited property', () => {
      expect(selectRouteKey(['action'], '{"action":"$connect"}', false)).to.equal(undefined);
      expect(selectRouteKey(['constructor'], '{}', false)).to.equal(undefined);
    });
  });

  describe('events', () => {
    it('builds $connect with headers and query, and the authorizer context', () => {
      const request = {
        headers: { Origin: 'https://a' },
        multiValueHeaders: { Origin: ['https://a'] },
        queryStringParameters: { channels: 'x' },
      };
      const event = connectEvent(connection, request, 1_700_000_001_000) as { requestContext: Record<string, unknown>; headers: unknown };
      expect(event.headers).to.deep.equal({ Origin: 'https://a' });
      expect(event.requestContext).to.deep.include({
        routeKey: '$connect',
        eventType: 'CONNECT',
        connectionId: connection.connectionId,
        requestTime: '14/Nov/2023:22:13:21 +0000',
        authorizer: connection.authorizer,
      });
      expect(event.requestContext.identity).to.deep.equal({ sourceIp: '127.0.0.1', userAgent: 'test' });
    });

    it('builds messages without headers and with a messageId', () => {
      const event = messageEvent(connection, 'ping', '{"action":"ping"}', false) as Record<string, unknown>;
      expect(event).to.not.have.property('headers');
      expect(event).to.deep.include({ body: '{"action":"ping"}', isBase64Encoded: false });
      expect((event.requestContext as Record<string, unknown>).messageId).to.match(/^[A-Za-z0-9+/]{15}=$/);
    });

    it('builds $disconnect with the close code and reason', () => {
      const event = disconnectEvent(connection, 1001, 'Going away') as { requestContext: Record<string, unknown> };
      expect(event.requestContext).to.deep.include({ eventType: 'DISCONNECT', disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    });

    it('gives the authorizer the methodArn and no authorizer context of its own', () => {
      const event = authorizerEvent(connection, { headers: {}, multiValueHeaders: {} }, 'arn:x') as {
        requestContext: Record<string, unknown>;
      };
      expect(event).to.deep.include({ type: 'REQUEST', methodArn: 'arn:x' });
      expect(event.requestContext).to.not.have.property('authorizer');
    });
  });
});
