/**
 * The client's connection state machine: reconnect with full-jitter backoff, re-join with `since`,
 * heartbeat only when idle, roll-over before API Gateway's 2-hour cut, and per-channel ordering
 * (sequence.ts). Everything that happens asynchronously is caught here: user code only ever sees
 * events, never an exception it did not cause synchronously.
 */
import { backoffDelay } from './backoff.js';
import * as D from './defaults.js';
import { Emitter } from './emitter.js';
import { parseServiceFrame, seqOf, str } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { Link, linkAddress } from './link.js';
import { Repairs } from './repairs.js';
import { ChannelSequence } from './sequence.js';
import type { AirwaveClient, ConnectionState, ConnectOptions, EventName, Listener, Timers, WebSocketConstructor } from './types.js';

type Frame = Record<string, unknown>;
type TimerName = 'reconnect' | 'stable' | 'rollover' | 'rolloverAck';

// Looked up at call time, so fake timers installed after import (sinon) still apply.
const globalTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** Throws a TypeError unless `channel` is a name the service accepts (saves a billed refusal). */
export function assertChannelName(channel: string): void {
  if (typeof channel !== 'string' || !D.CHANNEL_NAME_PATTERN.test(channel))
    throw new TypeError(`invalid channel name: ${String(channel).slice(0, 140)}`);
}

export class Client implements AirwaveClient {
  state: ConnectionState = 'connecting';
  private readonly emitter = new Emitter();
  private readonly seqs = new Map<string, ChannelSequence>();
  private readonly repairs: Repairs;
  private readonly heartbeat: Heartbeat;
  private readonly outbox: Frame[] = [];
  private readonly Ws: WebSocketConstructor;
  private readonly t: Timers;
  private current?: Link;
  /** The replacement link while rolling over. */
  private next?: Link;
  private attempt = 0;
  private rolloverAttempt = 0;
  /** Set once a link has opened: only the first connect joins through `?channels=`. */
  private everOpened = false;
  private readonly timers: Partial<Record<TimerName, unknown>> = {};

  constructor(
    private readonly url: string,
    private readonly o: ConnectOptions = {},
  ) {
    const Ws = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ws) throw new TypeError('no WebSocket implementation: pass { WebSocket } (in Node 20: the "ws" package)');
    this.Ws = Ws;
    this.t = o.timers ?? globalTimers;
    const clock = {
      now: () => this.t.now(),
      later: (ms: number, callback: () => void) => this.later(ms, callback),
      cancel: (h: unknown) => this.t.clearTimeout(h),
    };
    this.heartbeat = new Heartbeat(clock, o.heartbeatIdleMs ?? D.HEARTBEAT_IDLE_MS, o.pongTimeoutMs ?? D.PONG_TIMEOUT_MS);
    this.repairs = new Repairs(
      {
        ...clock,
        current: (channel) => this.seqs.get(channel),
        rejoin: (seq) => this.current?.open === true && this.sendJoin(this.current, seq),
      },
      o.holeTimeoutMs,
      o.joinAckTimeoutMs,
    );
    // A malformed URL is a programming error: say so now rather than retry it forever.
    new URL(url);
    for (const channel of o.channels ?? []) {
      assertChannelName(channel);
      this.track(channel);
    }
    this.openLink();
  }

  get channels(): readonly string[] {
    return [...this.seqs.keys()];
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    return this.emitter.on(event, listener);
  }

  join(channel: string): void {
    assertChannelName(channel);
    if (this.state === 'closed' || this.seqs.has(channel)) return;
    const seq = this.track(channel);
    // Links that are not open yet join every tracked channel when they open. Mid roll-over the
    // replacement joins too, or it would take over without the channel.
    if (this.current?.open) this.sendJoin(this.current, seq);
    if (this.next?.open) this.sendJoin(this.next, seq);
  }

  leave(channel: string): void {
    assertChannelName(channel);
    if (this.state === 'closed') return;
    this.seqs.delete(channel);
    this.repairs.clear(channel);
    this.current?.pending.delete(channel);
    this.next?.pending.delete(channel);
    // Mid roll-over this waits for the switch (see post), and goes out on the new link.
    this.post({ action: 'leavechannel', channel });
    if (this.next) this.maybePromote(this.next);
  }

  send(channel: string, message: unknown): void {
    assertChannelName(channel);
    if (this.state !== 'closed') this.post({ action: 'sendmessage', channel, message });
  }

  close(): void {
    if (this.state === 'closed') return;
    for (const name of Object.keys(this.timers) as TimerName[]) this.stop(name);
    this.heartbeat.stop();
    this.repairs.clearAll();
    this.current?.discard();
    this.next?.discard();
    this.current = this.next = undefined;
    this.setState('closed');
    this.emitter.clear();
  }

  // ---- links -------------------------------------------------------------------------------

  private openLink(rollover = false): Link | undefined {
    // The first connect joins its channels through ?channels= (each saves a billed joinchannel
    // message); later ones send joinchannel frames, whose acks and `since` make them lossless.
    const viaUrl = this.everOpened ? [] : [...this.seqs.keys()];
    try {
      const address = linkAddress(this.url, this.o.token, this.o.tokenIn ?? 'protocol', viaUrl);
      const link = new Link(
        this.Ws,
        address,
        viaUrl,
        {
          opened: (l) => this.guard(() => this.onOpen(l)),
          frame: (l, text) => this.guard(() => this.onFrame(l, text)),
          closed: (l) => this.guard(() => this.onClosed(l)),
        },
        this.t.now,
      );
      if (rollover) this.next = link;
      else this.current = link;
      link.connectTimer = this.later(this.o.connectTimeoutMs ?? D.CONNECT_TIMEOUT_MS, () => link.close());
      return link;
    } catch (cause) {
      // A bad URL or a constructor that throws: report it, and retry like any failed connect.
      this.emitter.emit('error', { code: 'connect_failed', message: 'could not open a WebSocket', cause });
      if (!rollover) this.scheduleReconnect();
      return undefined;
    }
  }

  private onOpen(link: Link): void {
    this.t.clearTimeout(link.connectTimer);
    this.everOpened = true;
    this.joinAll(link);
    if (link === this.next) {
      this.start('rolloverAck', this.o.rolloverAckTimeoutMs ?? D.ROLLOVER_ACK_TIMEOUT_MS, () => this.promote());
      this.maybePromote(link);
      return;
    }
    this.start('stable', this.o.stableAfterMs ?? D.STABLE_AFTER_MS, () => {
      this.attempt = 0;
    });
    this.linkReady(link);
    this.setState('open');
  }

  /** Arms the timers of the link that became current, and flushes frames queued while offline. */
  private linkReady(link: Link): void {
    this.rolloverAttempt = 0;
    const after = this.o.rolloverAfterMs ?? D.ROLLOVER_AFTER_MS;
    if (after > 0) this.start('rollover', Math.max(0, link.openedAt + after - this.t.now()), () => this.startRollover());
    this.heartbeat.watch(link);
    this.flush();
  }

  /** Sends the frames queued while offline (or held during a roll-over's overlap). */
  private flush(): void {
    const frames = this.outbox.splice(0);
    for (const frame of frames) this.post(frame);
  }

  private onClosed(link: Link): void {
    this.t.clearTimeout(link.connectTimer);
    if (link === this.next) {
      // The replacement failed: keep the old link and try again later (it still has minutes).
      this.next = undefined;
      this.flush();
      this.stop('rolloverAck');
      this.start('rollover', backoffDelay(this.rolloverAttempt++, this.base(), this.max(), this.random()), () => this.startRollover());
      return;
    }
    if (link !== this.current) return;
    this.current = undefined;
    for (const name of ['stable', 'rollover'] as const) this.stop(name);
    this.heartbeat.stop();
    // Joins that died with the link are answered by nothing: the re-join on the next link will be.
    for (const channel of link.pending) {
      const seq = this.seqs.get(channel);
      if (seq) seq.awaitingAck = false;
    }
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
    this.current = link;
    old?.discard();
    this.linkReady(link);
    if (this.state !== 'open') {
      this.start('stable', this.o.stableAfterMs ?? D.STABLE_AFTER_MS, () => {
        this.attempt = 0;
      });
      this.setState('open');
    }
  }

  // ---- frames ------------------------------------------------------------------------------

  private post(frame: Frame): void {
    // Mid roll-over both links are in the channels, and the service excludes only the sending
    // connection from a fan-out: the other would get a copy of the client's own message. The
    // frame waits for the switch instead (normally a join round trip).
    if (!this.next?.open && this.current?.send(frame)) return;
    const max = this.o.maxQueuedFrames ?? D.MAX_QUEUED_FRAMES;
    if (this.outbox.length < max) this.outbox.push(frame);
    else
      this.emitter.emit('error', { code: 'queue_full', message: `offline and ${max} frames already queued`, channel: str(frame.channel) });
  }

  private joinAll(link: Link): void {
    for (const seq of this.seqs.values()) if (!link.urlChannels.has(seq.channel)) this.sendJoin(link, seq);
  }

  /** Sends a join (with `since` once the channel has a baseline); false if the link cannot send. */
  private sendJoin(link: Link, seq: ChannelSequence): boolean {
    const frame: Frame = { action: 'joinchannel', channel: seq.channel };
    if (seq.last !== undefined) frame.since = seq.last;
    if (!link.send(frame)) return false;
    link.pending.add(seq.channel);
    seq.awaitingAck = true;
    this.repairs.joinSent(seq);
    return true;
  }

  private onFrame(link: Link, text: string): void {
    if (link === this.current) this.heartbeat.alive();
    const frame = parseServiceFrame(text);
    const { channel, raw } = frame;
    const seq = this.seqs.get(channel);
    switch (frame.type) {
      case 'message':
        if (seq && frame.id !== undefined) seq.message({ channel, message: frame.message, id: frame.id, seq: frame.seq });
        break;
      case 'sent':
        this.emitter.emit('sent', { channel, id: frame.id ?? '', seq: frame.seq });
        if (frame.seq !== undefined) seq?.receipt(frame.seq);
        break;
      case 'joined':
        link.pending.delete(channel);
        if (!seq) break;
        seq.ack(frame.seq);
        this.emitter.emit('joined', { channel, seq: frame.seq });
        break;
      case 'left':
        this.emitter.emit('left', { channel });
        break;
      case 'error': {
        const since = seqOf(raw.since);
        const oldest = seqOf(raw.oldest);
        if (raw.code === 'history_gap' && since !== undefined && oldest !== undefined) {
          if (!seq) break;
          seq.gap(since, oldest);
          this.repairs.gapReported(seq);
          return;
        }
        // A refused join is an answer too: a roll-over must not wait for it.
        if (link.pending.delete(channel) && seq) seq.awaitingAck = false;
        const { type: _type, ...details } = raw;
        this.emitter.emit('error', { ...details, code: str(raw.code) ?? 'error', message: str(raw.message) ?? '' });
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

  // ---- per-channel repair ------------------------------------------------------------------

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

  // ---- helpers -----------------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    const previous = this.state;
    if (state === previous) return;
    this.state = state;
    this.emitter.emit('state', { state, previous });
  }

  private base = (): number => this.o.reconnectBaseMs ?? D.RECONNECT_BASE_MS;
  private max = (): number => this.o.reconnectMaxMs ?? D.RECONNECT_MAX_MS;
  private random = (): (() => number) => this.o.random ?? Math.random;

  private start(name: TimerName, ms: number, callback: () => void): void {
    this.stop(name);
    this.timers[name] = this.later(ms, () => {
      this.timers[name] = undefined;
      callback();
    });
  }

  private stop(name: TimerName): void {
    if (this.timers[name] !== undefined) this.t.clearTimeout(this.timers[name]);
    this.timers[name] = undefined;
  }

  private later(ms: number, callback: () => void): unknown {
    return this.t.setTimeout(() => this.guard(callback), ms);
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
