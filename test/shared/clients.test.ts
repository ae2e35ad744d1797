import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { invokeAsync } from '../../shared/clients.js';
import { configure, reset } from '../../shared/dependencies.js';
import { LAMBDA_CALL_WORST_MS } from '../../shared/limits.js';

describe('clients', () => {
  describe('against an endpoint that accepts connections and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let restoreEnvironment: () => void;
    before(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      reset();
      restoreEnvironment = configure({
        environment: {
          AWS_ENDPOINT_URL_DYNAMODB: url,
          AWS_ENDPOINT_URL_LAMBDA: url,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      });
    });
    after(async () => {
      reset();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      restoreEnvironment();
    });

    it('fails a hand-off invoke within the worst case the docs give', async function () {
      this.timeout(LAMBDA_CALL_WORST_MS + 5_000);
      const started = Date.now();
      const error = await invokeAsync('airwave-fanout', { ids: [] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect(Date.now() - started).to.be.below(LAMBDA_CALL_WORST_MS);
    });
  });
});
