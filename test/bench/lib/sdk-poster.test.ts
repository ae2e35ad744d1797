import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { expect } from 'chai';
import { outcomeOfSdkError, SdkPoster } from '../../../bench/lib/sdk-poster.js';

/** A client stand-in that answers every command with `answer` (thrown when it is an error). */
function clientAnswering(answer: unknown): { client: ApiGatewayManagementApiClient; sent: { name: string; input: unknown }[] } {
  const sent: { name: string; input: unknown }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: unknown }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as ApiGatewayManagementApiClient;
  return { client, sent };
}

const sdkError = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('bench/lib/sdk-poster (the benchmark reference poster)', () => {
  it('maps SDK v3 errors to outcomes by name or status', () => {
    expect(outcomeOfSdkError(sdkError('GoneException', 410))).to.equal('gone');
    expect(outcomeOfSdkError(sdkError('Other', 410))).to.equal('gone');
    expect(outcomeOfSdkError(sdkError('LimitExceededException'))).to.equal('throttled');
    expect(outcomeOfSdkError(sdkError('ThrottlingException'))).to.equal('throttled');
    expect(outcomeOfSdkError(sdkError('Other', 429))).to.equal('throttled');
    expect(outcomeOfSdkError(sdkError('ForbiddenException', 403))).to.equal('failed');
    expect(outcomeOfSdkError(undefined)).to.equal('failed');
  });

  it('posts and deletes through the client it is given', async () => {
    const ok = clientAnswering({});
    const poster = new SdkPoster(ok.client);
    expect(await poster.post('abc=', '{"n":1}')).to.equal('ok');
    expect(await poster.disconnect('abc=')).to.equal('ok');
    expect(ok.sent).to.deep.equal([
      { name: 'PostToConnectionCommand', input: { ConnectionId: 'abc=', Data: '{"n":1}' } },
      { name: 'DeleteConnectionCommand', input: { ConnectionId: 'abc=' } },
    ]);
    const gone = new SdkPoster(clientAnswering(sdkError('GoneException', 410)).client);
    expect(await gone.post('x=', 'd')).to.equal('gone');
    expect(await gone.disconnect('x=')).to.equal('gone');
  });
});
