/**
 * The client's connection state machine: reconnect with full-jitter backoff, re-join with `since`,
 * liveness checks, roll-over before API Gateway's 2-hour cut, per-channel ordering (sequence.ts)
 * and correlated sends. Everything that happens asynchronously is caught here: user code only
 * ever sees events and settled promises, never an exception it did not cause synchronously.
 */
import { backoffDelay } from './backoff.js';
import * as DEFAULTS from './defaults.js';
import { Emitter } from './emitter.js';
import { parseServiceFrame, type ServiceFrame, seqOf, serviceFrame, str } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { Link, linkAddress } from './link.js';
import { memberOf, PresenceList } from './presence.js';
import { Repairs } from './repairs.js';
import { ChannelSequence } from './sequence.js';
import type {
  AirwaveClient,
  ChannelHandle,
  ClientError,
  ConnectionState,
  ConnectOptions,
  EventName,
  Joined,
  Listener,
  MessageEvent,
  PresenceMember,
  Receipt,
  Timers,
  WebSocketConstructor,
} from './types.js';

type Frame = Record<string, unknown>;
type TimerName = 'reconnect' | 'stable' | 'rollover' | 'rolloverAck';
type Settle<V> = [resolve: (value: V) => void, reject: (error: Error) => void];
interface PendingSend {
  channel: string;
  settle: Settle<Receipt>;
  /** The link it went out on (undefined while queued). */
  link?: Link;
  timer?: unknown;
}

// Looked up at call time, so fake timers installed after import (sinon) still apply.
const globalTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** Codes that refuse a join for good: retrying it would be refused (and billed) again. */
const REFUSED_JOIN = ['forbidden', 'invalid_channel', 'too_many_channels', 'presence_full'];
/** Codes only a `members` request gets. */
const REFUSED_MEMBERS = ['not_joined', 'not_presence_channel'];

/** Throws a TypeError unless `channel` is a name the service accepts (saves a billed refusal). */
export function assertChannelName(channel: string): void {
  if (typeof channel !== 'string' || !DEFAULTS.CHANNEL_NAME_PATTERN.test(channel))
    throw new TypeError(`invalid channel name: ${String(channel).slice(0, 140)}`);
}

/** An Error carrying a {@link ClientError}'s fields: what rejected promises hold. */
const failure = (details: ClientError): Error & ClientError => Object.assign(new Error(details.message), details);

/**
 * A promise whose rejection never counts as unhandled: awaiting it is optional, and an ignored
 * refusal must not crash a Node process (the same failure is an `error` event too).
 */
function settled<V>(register: (settle: Settle<V>) => void): Promise<V> {
  const promise = new Promise<V>((resolve, reject) => register([resolve, reject]));
  promise.catch(() => {});
  return promise;
}

export class Client implements AirwaveClient {
  state: ConnectionState = 'connecting';
  private readonly emitter = new Emitter();
  private readonly seqs = new Map<string, ChannelSequence>();
  /** Join acks per channel (a later `join()` of the channel resolves at once). */
  private readonly acks = new Map<string, Joined>();
  private readonly joinWaiters = new Map<string, Settle<Joined>[]>();
  private readonly sends = new Map<string, PendingSend>();
  /** Member lists per channel (client/src/presence.ts); active once the service sent one. */
  private readonly presence = new Map<string, PresenceList>();
  /** `fetchMembers` calls waiting for their answer, per channel, with the link they went out on. */
  private readonly memberWaiters = new Map<string, Array<{ link: Link; settle: Settle<PresenceMember[]> }>>();
  private readonly repairs: Repairs;
  private readonly heartbeat: Heartbeat;
  /** `sendmessage` frames waiting for an open link (offline, or mid roll-over). */
  private readonly outbox: Frame[] = [];
  private readonly Ws: WebSocketConstructor;
  private readonly clock: Timers;
  private current?: Link;
  /** The replacement link while rolling over. */
  private next?: Link;
  private attempt = 0;
  private rolloverAttempt = 0;
  private authFailures = 0;
  private refs = 0;
  /** Bumped by every connect attempt, reconnect() and close(): a token that arrives late is dropped. */
  private dial = 0;
  private readonly armed: Partial<Record<TimerName, unknown>> = {};
  private unlisten?: () => void;

  constructor(
    private readonly url: string,
    private readonly options: ConnectOptions = {},
  ) {
    const Ws = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ws) throw new TypeError('no WebSocket implementation: pass { WebSocket } (in Node 20: the "ws" package)');
    this.Ws = Ws;
    this.clock = this.options.timers ?? globalTimers;
    const clock = {
      now: () => this.clock.now(),
      later: (ms: number, callback: () => void) => this.later(ms, callback),
      cancel: (h: unknown) => this.clock.clearTimeout(h),
    };
    this.heartbeat = new Heartbeat(
      clock,
      this.options.heartbeatIdleMs ?? DEFAULTS.HEARTBEAT_IDLE_MS,
      this.options.pongTimeoutMs ?? DEFAULTS.PONG_TIMEOUT_MS,
      this.options.probeAfterMs ?? DEFAULTS.PROBE_AFTER_MS,
    );
    this.repairs = new Repairs(
      {
        ...clock,
        current: (channel) => this.seqs.get(channel),
        rejoin: (seq) => this.current?.open === true && this.sendJoin(this.current, seq),
      },
      this.options.holeTimeoutMs,
      this.options.joinAckTimeoutMs,
    );
    // A malformed URL is a programming error: say so now rather than retry it forever.
    new URL(url);
    for (const channel of this.options.channels ?? []) {
      assertChannelName(channel);
      this.track(channel);
    }
    this.listenToBrowser();
    this.openLink();
  }

  get channels(): readonly string[] {
    return [...this.seqs.keys()];
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    return this.emitter.on(event, listener);
  }

  join(channel: string): Promise<Joined> {
    assertChannelName(channel);
    return settled((settle) => {
      if (this.state === 'closed') return settle[1](failure({ code: 'closed', message: 'closed', channel }));
      const ack = this.acks.get(channel);
      if (ack) return settle[0](ack);
      this.joinWaiters.set(channel, [...(this.joinWaiters.get(channel) ?? []), settle]);
      if (this.seqs.has(channel)) return;
      const seq = this.track(channel);
      // Links that are not open yet join every tracked channel when they open. Mid roll-over the
      // replacement joins too, or it would take over without the channel. A leave still on its
      // way goes first (see onFrame 'left'): sent together, the service could run them in any order.
      for (const link of [this.current, this.next]) if (link?.open && !link.leaving.has(channel)) this.sendJoin(link, seq);
    });
  }

  leave(channel: string): void {
    assertChannelName(channel);
    if (this.state === 'closed') return;
    this.forget(channel, failure({ code: 'left', message: 'left', channel }));
    for (const link of [this.current, this.next]) {
      // A join still on its way is left once acknowledged (see onFrame 'joined'), for the same reason.
      if (!link?.open || link.pending.has(channel)) continue;
      link.leaving.add(channel);
      link.send({ action: 'leavechannel', channel });
    }
  }

  send(channel: string, message: unknown): Promise<Receipt> {
    assertChannelName(channel);
    let text: string | undefined;
    try {
      text = JSON.stringify(message);
    } catch {
      // A BigInt or a cycle: the caller's mistake, said now rather than queued forever.
    }
    if (text === undefined) throw new TypeError('message is not JSON');
    return settled((settle) => {
      if (this.state === 'closed') return settle[1](failure({ code: 'closed', message: 'closed', channel }));
      const ref = (++this.refs).toString(36);
      this.sends.set(ref, { channel, settle });
      this.transmit({ action: 'sendmessage', channel, message, ref });
    });
  }

  members(channel: string): PresenceMember[] {
    const list = this.presence.get(channel);
    return list?.active ? list.list() : [];
  }

  fetchMembers(channel: string): Promise<PresenceMember[]> {
    assertChannelName(channel);
    return settled((settle) => {
      if (this.state === 'closed') return settle[1](failure({ code: 'closed', message: 'closed', channel }));
      if (!this.seqs.has(channel)) return settle[1](failure({ code: 'not_joined', message: 'join the channel first', channel }));
      const link = this.current;
      if (!link?.send({ action: 'members', channel }))
        return settle[1](failure({ code: 'not_connected', message: 'not connected', channel }));
      this.presenceOf(channel).requested();
      this.memberWaiters.set(channel, [...(this.memberWaiters.get(channel) ?? []), { link, settle }]);
    });
  }

  channel(name: string, onMessage?: (event: MessageEvent) => void): ChannelHandle {
    const joined = this.join(name);
    const off = onMessage ? this.on('message', (event) => event.channel === name && onMessage(event)) : () => {};
    return {
      name,
      joined,
      send: (message) => this.send(name, message),
      leave: () => {
        off();
        this.leave(name);
      },
    };
  }

  reconnect(): void {
    if (this.state === 'closed') return;
    this.attempt = this.authFailures = 0;
    this.stop('reconnect');
    const link = this.current;
    if (link) this.lose(link);
    this.stop('rolloverAck');
    for (const l of [link, this.next]) {
      this.clock.clearTimeout(l?.connectTimer);
      l?.discard();
    }
    this.next = undefined;
    this.setState('reconnecting');
    this.openLink();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.dial++;
    for (const name of Object.keys(this.armed) as TimerName[]) this.stop(name);
    this.heartbeat.stop();
    this.repairs.clearAll();
    this.unlisten?.();
    for (const link of [this.current, this.next]) {
      this.clock.clearTimeout(link?.connectTimer);
      link?.discard();
    }
    this.current = this.next = undefined;
    // Pending promises are rejected quietly: the app asked for the close, no `error` event.
    const closed = { code: 'closed', message: 'closed' };
    for (const [ref, send] of this.sends) {
      this.clock.clearTimeout(send.timer);
      send.settle[1](failure({ ...closed, channel: send.channel, ref }));
    }
    this.sends.clear();
    for (const channel of [...this.joinWaiters.keys()]) this.rejectJoin(channel, failure({ ...closed, channel }));
    for (const channel of [...this.memberWaiters.keys()]) this.rejectMembers(channel, failure({ ...closed, channel }));
    this.outbox.length = 0;
    this.setState('closed');
    this.emitter.clear();
  }

  // ---- links -------------------------------------------------------------------------------

  /** Opens a link, after asking the token function (if any) for a fresh token. */
  private openLink(rollover = false): void {
    const dial = ++this.dial;
    const fail = (cause: unknown) => {
      this.emitter.emit('error', { code: 'token_failed', message: 'token function failed', cause });
      this.retry(rollover);
    };
    const token = this.options.token;
    if (typeof token !== 'function') {
      this.openWith(token, rollover);
      return;
    }
    let value: ReturnType<typeof token>;
    try {
      value = token();
    } catch (cause) {
      fail(cause);
      return;
    }
    // A sync function connects at once, as a fixed token does.
    if (typeof value !== 'object') this.openWith(value, rollover);
    else
      value.then(
        (token) => dial === this.dial && this.guard(() => this.openWith(token, rollover)),
        (cause) => dial === this.dial && this.guard(() => fail(cause)),
      );
  }

  private openWith(token: string | undefined, rollover: boolean): void {
    try {
      const link = new Link(
        this.Ws,
        linkAddress(this.url, token, this.options.tokenIn ?? 'protocol'),
        {
          opened: (link) => this.guard(() => this.onOpen(link)),
          frame: (link, text) => this.guard(() => this.onFrame(link, text)),
          closed: (link) => this.guard(() => this.onClosed(link)),
        },
        this.clock.now,
      );
      if (rollover) this.next = link;
      else this.current = link;
      link.connectTimer = this.later(this.options.connectTimeoutMs ?? DEFAULTS.CONNECT_TIMEOUT_MS, () => link.close());
    } catch (cause) {
      // A constructor that throws (a token that is not a valid subprotocol, say): report, retry.
      this.emitter.emit('error', { code: 'connect_failed', message: 'could not open a WebSocket', cause });
      this.retry(rollover);
    }
  }

  /** A connect attempt failed: try again after the backoff (a roll-over keeps its old link meanwhile). */
  private retry(rollover: boolean): void {
    if (rollover)
      this.start('rollover', backoffDelay(this.rolloverAttempt++, this.base(), this.max(), this.random()), () => this.startRollover());
    else this.scheduleReconnect();
  }

  private onOpen(link: Link): void {
    this.clock.clearTimeout(link.connectTimer);
    this.authFailures = 0;
    // Every channel is joined with a frame, never through ?channels=: only a frame gets an ack
    // carrying the channel's seq (so a later re-join can ask for what it missed), and a refused
    // join names its channel instead of failing the whole connect.
    for (const seq of this.seqs.values()) this.sendJoin(link, seq);
    if (link === this.next) {
      this.start('rolloverAck', this.options.rolloverAckTimeoutMs ?? DEFAULTS.ROLLOVER_ACK_TIMEOUT_MS, () => this.promote());
      this.maybePromote(link);
      return;
    }
    this.start('stable', this.options.stableAfterMs ?? DEFAULTS.STABLE_AFTER_MS, () => {
      this.attempt = 0;
    });
    this.linkReady(link);
    this.setState('open');
  }

  /** Arms the timers of the link that became current, and flushes frames queued while offline. */
  private linkReady(link: Link): void {
    this.rolloverAttempt = 0;
    const after = this.options.rolloverAfterMs ?? DEFAULTS.ROLLOVER_AFTER_MS;
    if (after > 0) this.start('rollover', Math.max(0, link.openedAt + after - this.clock.now()), () => this.startRollover());
    this.heartbeat.watch(link);
    this.flush();
  }

  /** Sends the frames queued while offline (or held during a roll-over's overlap). */
  private flush(): void {
    for (const frame of this.outbox.splice(0)) this.transmit(frame);
  }

  private onClosed(link: Link): void {
    this.clock.clearTimeout(link.connectTimer);
    if (!link.openedAt && this.refused(link)) return;
    if (link === this.next) {
      // The replacement failed: keep the old link and try again later (it still has minutes).
      this.next = undefined;
      this.stop('rolloverAck');
      this.retry(true);
      this.flush();
      return;
    }
    if (link !== this.current) return;
    this.lose(link);
    // Mid roll-over, the replacement has already sent its joins with `since`: switch to it.
    if (this.next?.open) {
      this.promote();
      return;
    }
    this.next?.discard();
    this.next = undefined;
    this.stop('rolloverAck');
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  /**
   * A link closed before it opened: an `error` event, with the HTTP status when the WebSocket
   * implementation tells it. A 401/403 does not get better by retrying with the same token: with
   * a fixed token the client stops at once, with a token function after `maxAuthFailures` in a
   * row. True when the client stopped.
   */
  private refused(link: Link): boolean {
    const auth = link.status === 401 || link.status === 403;
    this.authFailures = auth ? this.authFailures + 1 : 0;
    const limit = typeof this.options.token === 'function' ? (this.options.maxAuthFailures ?? DEFAULTS.MAX_AUTH_FAILURES) : 1;
    // A refused roll-over does not stop a client whose current link still works.
    const stop = auth && this.authFailures >= limit && link !== this.next;
    const message = link.status ? `connection refused with HTTP ${link.status}` : 'connection failed';
    this.emitter.emit('error', { code: 'connect_failed', message: stop ? `${message}: giving up` : message, status: link.status });
    if (stop) this.close();
    return stop;
  }

  /** The current link is gone: what was in flight on it is answered by nothing. */
  private lose(link: Link): void {
    this.current = undefined;
    for (const name of ['stable', 'rollover'] as const) this.stop(name);
    this.heartbeat.stop();
    // Joins that died with the link: the re-join on the next link will be answered.
    for (const channel of link.pending) {
      const seq = this.seqs.get(channel);
      if (seq) seq.awaitingAck = false;
      this.presence.get(channel)?.abandoned();
    }
    for (const [channel, waiters] of this.memberWaiters)
      for (const waiter of waiters.filter((w) => w.link === link))
        this.settleMembers(channel, waiter, failure({ code: 'unconfirmed', message: 'connection lost before the answer', channel }));
    for (const [ref, send] of this.sends)
      if (send.link === link)
        this.settleSend(
          ref,
          failure({
            code: 'unconfirmed',
            message: 'connection lost before the receipt',
            channel: send.channel,
            ref,
          }),
        );
  }

  private scheduleReconnect(): void {
    this.start('reconnect', backoffDelay(this.attempt++, this.base(), this.max(), this.random()), () => this.openLink());
  }

  private startRollover(): void {
    if (this.next || !this.current?.open) return;
    this.openLink(true);
  }

  private maybePromote(link: Link): void {
    if (link === this.next && link.open && link.pending.size === 0) this.promote();
  }

  /** The replacement's joins are acknowledged: it becomes current, and the old link closes. */
  private promote(): void {
    const link = this.next;
    if (!link) return;
    this.stop('rolloverAck');
    const old = this.current;
    this.next = undefined;
    if (old) this.lose(old);
    this.current = link;
    old?.discard();
    this.linkReady(link);
    if (this.state !== 'open') {
      this.start('stable', this.options.stableAfterMs ?? DEFAULTS.STABLE_AFTER_MS, () => {
        this.attempt = 0;
      });
      this.setState('open');
    }
  }

  // ---- frames ------------------------------------------------------------------------------

  /** Sends a `sendmessage` frame now, or queues it. */
  private transmit(frame: Frame): void {
    const ref = frame.ref as string;
    const send = this.sends.get(ref);
    if (!send) return;
    // Mid roll-over both links are in the channels, and the service excludes only the sending
    // connection from a fan-out: the other would get a copy of the client's own message. The
    // frame waits for the switch instead (normally a join round trip).
    const link = this.current;
    if (!this.next?.open && link?.send(frame)) {
      send.link = link;
      send.timer = this.later(this.options.sendTimeoutMs ?? DEFAULTS.SEND_TIMEOUT_MS, () =>
        this.settleSend(ref, failure({ code: 'unconfirmed', message: 'no receipt', channel: send.channel, ref })),
      );
      this.seqs.get(send.channel)?.sending(ref);
      return;
    }
    const max = this.options.maxQueuedFrames ?? DEFAULTS.MAX_QUEUED_FRAMES;
    if (this.outbox.length < max) this.outbox.push(frame);
    else
      this.settleSend(
        ref,
        failure({ code: 'queue_full', message: `offline and ${max} frames already queued`, channel: send.channel, ref }),
      );
  }

  /** Resolves (a receipt) or rejects (an error, also emitted) a send, and lets its channel go on. */
  private settleSend(ref: string, outcome: Receipt | (Error & ClientError), seq?: number): void {
    const send = this.sends.get(ref);
    if (!send) return;
    this.sends.delete(ref);
    this.clock.clearTimeout(send.timer);
    const channel = this.seqs.get(send.channel);
    channel?.settle(ref, seq);
    if (outcome instanceof Error) {
      this.emitter.emit('error', { ...outcome, message: outcome.message });
      send.settle[1](outcome);
    } else send.settle[0](outcome);
    if (channel) this.repairs.check(channel);
  }

  /** Sends a join (with `since` once the channel has a baseline); false if the link cannot send. */
  private sendJoin(link: Link, seq: ChannelSequence): boolean {
    const frame: Frame = { action: 'joinchannel', channel: seq.channel };
    if (seq.last !== undefined) frame.since = seq.last;
    if (!link.send(frame)) return false;
    // Re-added, so the set's order is the order the joins went out (see the refusal below).
    link.pending.delete(seq.channel);
    link.pending.add(seq.channel);
    seq.awaitingAck = true;
    this.repairs.joinSent(seq);
    // The ack of a presence channel carries its members: events from now on are applied over them.
    this.presenceOf(seq.channel).requested();
    return true;
  }

  private onFrame(link: Link, text: string): void {
    if (link === this.current) this.heartbeat.alive();
    const frame = parseServiceFrame(text);
    const { raw, ref } = frame;
    let { channel } = frame;
    let seq = this.seqs.get(channel);
    switch (frame.type) {
      case 'message':
        this.deliver(seq, frame);
        break;
      case 'replay':
        // The answer to a join with `since`: live delivery frames, oldest first.
        if (Array.isArray(raw.messages)) for (const each of raw.messages) this.deliver(seq, serviceFrame(each), channel);
        break;
      case 'sent': {
        const receipt = { channel, id: frame.id ?? '', seq: frame.seq, ref: ref ?? '' };
        this.emitter.emit('sent', receipt);
        if (ref !== undefined && this.sends.has(ref)) this.settleSend(ref, receipt, frame.seq);
        else if (frame.seq !== undefined) seq?.receipt(frame.seq);
        break;
      }
      case 'joined':
        link.pending.delete(channel);
        // Left while the join was on its way: leave now that the service has done the join.
        if (!seq) {
          link.leaving.add(channel);
          link.send({ action: 'leavechannel', channel });
          break;
        }
        seq.ack(frame.seq);
        this.joinedPresence(channel, raw);
        this.acks.set(channel, { channel, seq: frame.seq });
        this.emitter.emit('joined', { channel, seq: frame.seq });
        for (const [resolve] of this.joinWaiters.get(channel) ?? []) resolve({ channel, seq: frame.seq });
        this.joinWaiters.delete(channel);
        // Joined, but the replay was refused (budget spent): `seq` is the channel's latest, not
        // where this client is. Ask again for the rest once the service says it may.
        if (raw.replay === 'refused' && seq.needsRepair()) {
          const retryAfter = typeof raw.retryAfter === 'number' && raw.retryAfter > 0 ? raw.retryAfter : 1;
          // The check below keeps this timer (it only arms one when none is set).
          this.repairs.retryAfter(seq, Math.min(retryAfter, 60) * 1000);
        }
        break;
      case 'presence':
        this.presenceEvent(channel, raw);
        break;
      case 'members': {
        const list = this.presence.get(channel);
        const members = Array.isArray(raw.members) ? raw.members.map(memberOf) : undefined;
        if (!list || !seq || !members || members.includes(undefined)) break;
        list.snapshot(members as PresenceMember[]);
        this.emitPresence(channel, list, 'sync');
        const waiter = this.memberWaiters.get(channel)?.find((w) => w.link === link);
        if (waiter) this.settleMembers(channel, waiter, list.list(), false);
        break;
      }
      case 'left':
        link.leaving.delete(channel);
        // Joined again while the leave was on its way: the join goes out now.
        if (seq && link.open && !link.pending.has(channel)) this.sendJoin(link, seq);
        this.emitter.emit('left', { channel });
        break;
      case 'error': {
        const code = str(raw.code) ?? 'error';
        const since = seqOf(raw.since);
        const oldest = seqOf(raw.oldest);
        if (code === 'history_gap' && since !== undefined && oldest !== undefined) {
          if (!seq) break;
          seq.gap(since, oldest);
          this.repairs.gapReported(seq);
          return;
        }
        // The replay stopped at `seq`: ask again from where this client now is.
        if (code === 'replay_incomplete') {
          if (seq && link.open) this.sendJoin(link, seq);
          break;
        }
        const { type: _type, ...details } = raw;
        const error: ClientError = { ...details, code, message: str(raw.message) ?? '' };
        // The service could not finish this join in time and undid it: ask again after
        // retryAfter, spread over 1-3 times it (a crowd refused together must not come back
        // together). The join stays awaited, so the ack timeout still covers a lost answer.
        if (code === 'unavailable' && ref === undefined && seq && link.pending.has(channel)) {
          const retryAfter = typeof raw.retryAfter === 'number' && raw.retryAfter > 0 ? Math.min(raw.retryAfter, 60) : 1;
          const joining = seq;
          this.later(retryAfter * 1000 * (1 + 2 * this.random()()), () => {
            const current = this.current;
            if (this.seqs.get(channel) === joining && current?.open) this.sendJoin(current, joining);
          });
          this.emitter.emit('error', error);
          break;
        }
        if (ref !== undefined && this.sends.has(ref)) {
          this.settleSend(ref, failure(error));
          break;
        }
        // A refused `members` request (its own codes, or the presence budget with no join of the channel on its way).
        const asked = this.memberWaiters.get(channel)?.find((w) => w.link === link);
        if (asked && (REFUSED_MEMBERS.includes(code) || (code === 'rate_limited' && !link.pending.has(channel)))) {
          this.settleMembers(channel, asked, failure({ ...error, channel }));
          this.emitter.emit('error', error);
          break;
        }
        // An older service named no channel in `too_many_channels`: it refused the join that went out last.
        if (!channel && code === 'too_many_channels') channel = [...link.pending].at(-1) ?? '';
        if (ref === undefined && link.pending.delete(channel)) {
          if (seq) seq.awaitingAck = false;
          this.presence.get(channel)?.abandoned();
          if (REFUSED_JOIN.includes(code)) {
            // Refused for good: the channel is not joined, and is not asked for again.
            error.channel = channel;
            this.forget(channel, failure(error));
            seq = undefined;
          }
        }
        this.emitter.emit('error', error);
        break;
      }
      case 'gateway':
        this.emitter.emit('error', { code: 'gateway_error', message: str(raw.message) ?? '' });
        break;
      case 'bad':
        this.emitter.emit('error', { code: 'bad_frame', message: 'unreadable frame from the service' });
        break;
      // `pong`, and types from a newer service, need nothing.
    }
    if (seq) this.repairs.check(seq);
    if (link === this.next) this.maybePromote(link);
  }

  /** One delivery frame (live or inside a replay) of a channel this client is in. */
  private deliver(seq: ChannelSequence | undefined, frame: ServiceFrame, channel = frame.channel): void {
    if (seq && frame.type === 'message' && frame.channel === channel && frame.id !== undefined)
      seq.message({ channel, message: frame.message, id: frame.id, seq: frame.seq });
  }

  // ---- channels ----------------------------------------------------------------------------

  private track(channel: string): ChannelSequence {
    const seq = new ChannelSequence(channel, {
      deliver: (event) => {
        if (this.seqs.get(channel) === seq) this.emitter.emit('message', event);
      },
      gap: (event) => {
        if (this.seqs.get(channel) === seq) this.emitter.emit('gap', event);
      },
    });
    this.seqs.set(channel, seq);
    return seq;
  }

  // ---- presence ----------------------------------------------------------------------------

  private presenceOf(channel: string): PresenceList {
    const known = this.presence.get(channel);
    if (known) return known;
    const list = new PresenceList();
    this.presence.set(channel, list);
    return list;
  }

  /** A join ack: a presence channel's carries the member list, which replaces the one kept. */
  private joinedPresence(channel: string, raw: Record<string, unknown>): void {
    const list = this.presenceOf(channel);
    const members = Array.isArray(raw.members) ? raw.members.map(memberOf) : undefined;
    if (!members || members.includes(undefined)) {
      list.abandoned();
      return;
    }
    list.snapshot(members as PresenceMember[], str(raw.self));
    this.emitPresence(channel, list, 'sync');
  }

  private presenceEvent(channel: string, raw: Record<string, unknown>): void {
    const list = this.presence.get(channel);
    const member = memberOf(raw.member);
    const event = raw.event;
    if (!list || !member || (event !== 'join' && event !== 'leave')) return;
    if (list.event(event, member) && list.active) this.emitPresence(channel, list, event, member);
  }

  private emitPresence(channel: string, list: PresenceList, event: 'join' | 'leave' | 'sync', member?: PresenceMember): void {
    this.emitter.emit('presence', { channel, event, ...(member ? { member } : {}), members: list.list(), self: list.self });
  }

  private settleMembers(
    channel: string,
    waiter: { link: Link; settle: Settle<PresenceMember[]> },
    outcome: PresenceMember[] | Error,
    abandon = true,
  ): void {
    const waiters = (this.memberWaiters.get(channel) ?? []).filter((w) => w !== waiter);
    if (waiters.length > 0) this.memberWaiters.set(channel, waiters);
    else this.memberWaiters.delete(channel);
    if (outcome instanceof Error) {
      if (abandon) this.presence.get(channel)?.abandoned();
      waiter.settle[1](outcome);
    } else waiter.settle[0](outcome);
  }

  private rejectMembers(channel: string, reason: Error): void {
    for (const { settle } of this.memberWaiters.get(channel) ?? []) settle[1](reason);
    this.memberWaiters.delete(channel);
  }

  /** The channel is no longer wanted (left, or its join refused): drop its state. */
  private forget(channel: string, reason: Error): void {
    this.seqs.delete(channel);
    this.acks.delete(channel);
    this.presence.delete(channel);
    this.rejectMembers(channel, reason);
    this.repairs.clear(channel);
    this.rejectJoin(channel, reason);
  }

  private rejectJoin(channel: string, reason: Error): void {
    for (const [, reject] of this.joinWaiters.get(channel) ?? []) reject(reason);
    this.joinWaiters.delete(channel);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * In a browser: reconnect at once when the network comes back or the page is shown again (a
   * backgrounded tab's timers are throttled, so the backoff may be minutes late), and check an
   * open link with a ping when the network changes or the page is shown (it may have died while
   * the laptop slept): the ping's timeout replaces a dead one.
   */
  private listenToBrowser(): void {
    const g = globalThis as unknown as {
      addEventListener?: (type: string, listener: () => void) => void;
      removeEventListener: (type: string, listener: () => void) => void;
      document?: {
        visibilityState?: string;
        addEventListener(type: string, listener: () => void): void;
        removeEventListener(type: string, listener: () => void): void;
      };
    };
    const doc = g.document;
    if (this.options.browserEvents === false || typeof g.addEventListener !== 'function' || !doc) return;
    const wake = () =>
      this.guard(() => {
        if (doc.visibilityState === 'hidden') return;
        if (this.state === 'reconnecting') this.reconnect();
        else this.current?.send({ action: 'ping' });
      });
    for (const type of ['online', 'offline']) g.addEventListener(type, wake);
    doc.addEventListener('visibilitychange', wake);
    this.unlisten = () => {
      for (const type of ['online', 'offline']) g.removeEventListener(type, wake);
      doc.removeEventListener('visibilitychange', wake);
    };
  }

  private setState(state: ConnectionState): void {
    const previous = this.state;
    if (state === previous) return;
    this.state = state;
    this.emitter.emit('state', { state, previous });
  }

  private base = (): number => this.options.reconnectBaseMs ?? DEFAULTS.RECONNECT_BASE_MS;
  private max = (): number => this.options.reconnectMaxMs ?? DEFAULTS.RECONNECT_MAX_MS;
  private random = (): (() => number) => this.options.random ?? Math.random;

  private start(name: TimerName, ms: number, callback: () => void): void {
    this.stop(name);
    this.armed[name] = this.later(ms, () => {
      this.armed[name] = undefined;
      callback();
    });
  }

  private stop(name: TimerName): void {
    if (this.armed[name] !== undefined) this.clock.clearTimeout(this.armed[name]);
    this.armed[name] = undefined;
  }

  private later(ms: number, callback: () => void): unknown {
    return this.clock.setTimeout(() => this.guard(callback), ms);
  }

  /** Runs a callback from a socket or a timer; a bug in it becomes an `error` event, never a throw. */
  private guard(callback: () => void): void {
    if (this.state === 'closed') return;
    try {
      callback();
    } catch (cause) {
      this.emitter.emit('error', { code: 'client_error', message: 'internal client error', cause });
    }
  }
}
