/**
 * The presence churn run: typed clients connecting, rolling over, losing sockets and dying for
 * 20 s, after which every live client's member list and the service's own must equal the truth.
 * It found two bugs (fixed, with unit tests in test/shared/presence.test.ts): a join refused
 * `presence_full` while a leave was between its two writes, and slots leaked by a deadline
 * cutting a slot from its member row. PRESENCE_CHURN_STATS=1 prints what a run did, and on a
 * failure the client errors and the functions' warnings.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import { connect } from '../../client/src/index.js';
import type { AirwaveClient } from '../../client/src/types.js';
import { ids, join, open, roomyPresence, token, useStack } from '../helpers/presence-stack.js';
import { sleep } from '../helpers/ws-client.js';

const CAP = 6;

describe('presence end to end: churn', function () {
  this.timeout(180_000);

  describe(`AuthMode=jwt, PresenceMemberLimit=${CAP}, PresenceInfoClaim=name`, () => {
    const ctx = useStack(roomyPresence(CAP));

    it('churn: typed clients connecting, rolling over, losing sockets and dying; every live client ends with the true member list', async () => {
      const room = 'presence:churn';
      const principals = Array.from({ length: CAP }, (_, i) => `churn${i}`);
      interface Live {
        sub: string;
        client: AirwaveClient;
        sockets: WebSocket[];
        dead: boolean;
      }
      const lives: Live[] = [];
      const start = (sub: string): Live => {
        const live: Live = { sub, client: undefined as unknown as AirwaveClient, sockets: [], dead: false };
        class Tracked extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols);
            live.sockets.push(this);
          }
        }
        live.client = connect(ctx.stack.url, {
          WebSocket: Tracked as unknown as typeof WebSocket,
          token: () => token(sub),
          channels: [room],
          // Roll over every 4 to 8 s, as the 2-hour cut makes it, but often.
          rolloverAfterMs: 4_000 + Math.floor(Math.random() * 4_000),
          reconnectBaseMs: 100,
          reconnectMaxMs: 1_000,
          heartbeatIdleMs: 0,
        });
        live.client.on('error', (e) => errors.push(`${sub}#${lives.indexOf(live)}: ${e.code} ${e.channel ?? ''} ${e.message}`));
        lives.push(live);
        return live;
      };
      const errors: string[] = [];
      const deadline = Date.now() + 20_000;
      // 2 connections per principal at the start, then random events until the deadline.
      for (const sub of [...principals, ...principals]) start(sub);
      let started = lives.length;
      while (Date.now() < deadline) {
        await sleep(150 + Math.random() * 200);
        const alive = lives.filter((l) => !l.dead);
        const roll = Math.random();
        if (roll < 0.3 && started < 40) {
          start(principals[Math.floor(Math.random() * principals.length)]);
          started++;
        } else if (roll < 0.55 && alive.length > 0) {
          // A lost socket: the client reconnects and re-joins.
          alive[Math.floor(Math.random() * alive.length)].sockets.at(-1)?.terminate();
        } else if (roll < 0.7 && alive.length > 2) {
          // A dying client: its socket is killed and it never comes back.
          const victim = alive[Math.floor(Math.random() * alive.length)];
          victim.dead = true;
          for (const s of victim.sockets) s.terminate();
          victim.client.close();
        }
      }
      const survivors = lives.filter((l) => !l.dead);
      const truth = [...new Set(survivors.map((l) => l.sub))].sort();
      const settled = () =>
        survivors.every(
          (l) =>
            l.client
              .members(room)
              .map((m) => m.id)
              .sort()
              .join() === truth.join(),
        );
      const settleStart = Date.now();
      const end = settleStart + 30_000;
      while (!settled() && Date.now() < end) await sleep(200);
      // PRESENCE_CHURN_STATS=1 prints what the run did (for docs/benchmarks-style numbers).
      if (process.env.PRESENCE_CHURN_STATS)
        console.log(
          `churn: ${lives.length} clients, ${lives.reduce((n, l) => n + l.sockets.length, 0)} sockets, ${lives.length - survivors.length} died, ${truth.length} members, settled in ${Date.now() - settleStart} ms`,
        );
      const wrong = survivors
        .filter(
          (l) =>
            l.client
              .members(room)
              .map((m) => m.id)
              .sort()
              .join() !== truth.join(),
        )
        .map(
          (l) =>
            `${l.sub}: ${l.client
              .members(room)
              .map((m) => m.id)
              .join(',')} (${l.client.state})`,
        );
      // The service's own list agrees.
      const probe = await open(ctx, truth[0]);
      const ack = await join(probe, room);
      for (const l of lives) l.client.close();
      if (wrong.length > 0 && process.env.PRESENCE_CHURN_STATS) {
        console.log(errors.join('\n'));
        console.log(
          ctx.logs
            .filter((l) => /WARN|ERROR|presence/i.test(l.line))
            .slice(-80)
            .map((l) => `${l.fn}: ${l.line}`)
            .join('\n'),
        );
      }
      expect(wrong, `truth ${truth.join(',')}; errors ${errors.slice(0, 5).join(' / ')}`).to.deep.equal([]);
      expect(ids(ack.members)).to.deep.equal(truth);
      // No duplicates in any list.
      for (const l of survivors) expect(new Set(l.client.members(room).map((m) => m.id)).size).to.equal(truth.length);
    });
  });
});
