/**
 * Replay for `joinchannel` with `since`: what the client missed on a channel, packed into as few
 * posts as API Gateway's limits allow, oldest first, never silently short.
 *
 * Packing. A replay frame `{"type":"replay","channel":C,"messages":[F1,...]}` carries as many
 * stored delivery frames as fit one API Gateway message (128 KB, less a margin). API Gateway bills
 * a message per 32 KB unit, so a 124 KB post bills 4 messages, the same as packing at 32 KB
 * (100 messages of 16 KB: ~52 units, against 50 at 32 KB and 100 unpacked). The gain of going
 * past 32 KB is in requests: each post is one request against the account throttle (10,000/s
 * shared by every API, connection and callback of the account), and 128 KB posts are ~4x fewer
 * than 32 KB ones (13 instead of 50; 100 unpacked). Small messages gain on both counts: 100
 * frames of 200 bytes are one post and one billed unit instead of 100. One small `joinchannel`
 * frame can no longer make the service post 100 times.
 *
 * Loss. A replay reads every history page it needs (a DynamoDB page is at most 1 MB), retries
 * throttled posts with the fan-out's backoff, stops on 410, and stops at a time budget well
 * inside the function's timeout: then the client gets `replay_incomplete` (with the last `seq`
 * it was told about) instead of the `joined` ack, and asks again. Never a partial replay that
 * looks complete.
 *
 * Gaps. A `seq` after `since` that has no history row is one of three things:
 * - a message no longer kept (expired, or older than the newest `HistorySize`): really gone,
 *   reported with `history_gap`;
 * - a publish on its way (it has taken its number, atomic ADD, and not written its row yet):
 *   it will arrive live. Ordering argument: the join writes its subscription row *before* it
 *   reads the sequence and history (strongly consistent reads). A publish writes its history row
 *   *before* it reads the subscribers to fan out. So a row this replay does not see was written
 *   after the read began, after the subscription existed, and its fan-out, which starts after
 *   that write, finds this connection. (The fan-out reads a GSI, which lags by milliseconds:
 *   the settle wait below, and the replay of rows that appear meanwhile, cover that too.)
 * - a number whose publish failed before storing its message: nothing was ever delivered.
 * A row older than one still kept cannot have expired (rows expire in the order they were
 * written, and a number is taken before its row is written), so a missing number *after* a kept
 * row (or after the client's own `since` row) is never reported as a gap. Once every number up
 * to the latest is older than the settle window (the sequence item records when the last one was
 * taken), such a number is claimed with a tombstone (a conditional write: the publisher's own
 * conditional write then fails, and that publish is abandoned before any delivery) and listed
 * in `skipped`, so the client closes the hole instead of waiting for it. A missing number before
 * every kept row may have expired: after the settle window it is reported as a gap.
 */
import { bulkPoster } from './clients.js';
import { config } from './config.js';
import { AirwaveError, ReplayIncompleteError } from './errors.js';
import { API_GATEWAY_MESSAGE_BYTES } from './limits.js';
import { logger, metrics } from './observability.js';
import { postWithRetry } from './post-retry.js';
import type { Poster } from './poster.js';
import { errorFrame, replayEnvelopeBytes, replayFrameText, skippedBytes } from './protocol.js';
import { type HistoryRow, historyPages, markSkipped, type SequenceState } from './store.js';

/**
 * Largest replay frame posted: API Gateway's 128 KB message limit less 1 KB. The size is counted
 * exactly (UTF-8 bytes of the text posted); the margin only guards against a limit counted a
 * little differently than documented. Past the limit API Gateway closes the socket (1009).
 */
export const REPLAY_FRAME_BYTES = API_GATEWAY_MESSAGE_BYTES - 1024;
/**
 * Time a replay may take, reads and posts included. JoinChannelFunction's Timeout is 10 s
 * (template Globals), API Gateway's integration timeout 29 s: 5 s leaves room for a post started
 * just before the deadline (POST_TIMEOUT_MS, 3 s) and the join's own DynamoDB calls.
 */
export const REPLAY_BUDGET_MS = 5_000;
/**
 * How long after taking its number a publish is assumed to be still on its way. Its two steps
 * (ADD, then PutItem) take tens of milliseconds; 1 s also covers the SDK's retries of a briefly
 * throttled write. A publish slower than that may find its number claimed as skipped by a
 * replay: its write then fails and it delivers nothing (never a message clients were told does
 * not exist).
 */
export const HISTORY_SETTLE_MS = 1_000;

/** A replay frame ready to post. */
export interface ReplayChunk {
  text: string;
  /** Delivery frames in it. */
  messages: number;
  /** Highest `seq` it accounts for (delivered or skipped). */
  lastSeq: number;
}

/**
 * Packs delivery frames (and skipped numbers) into replay frames of at most `maxBytes`, in the
 * order they are given. A frame that does not fit beside what is packed closes the current
 * replay frame; a frame too big for any replay frame is posted alone in one (at the default
 * limits it cannot happen: MaxMessageBytes is at most 30,000).
 */
export class ReplayPacker {
  private frames: string[] = [];
  private skipped: number[] = [];
  private framesBytes = 0;
  private lastSeq = 0;
  private readonly envelopeBytes: number;

  constructor(
    readonly channel: string,
    readonly maxBytes: number = REPLAY_FRAME_BYTES,
  ) {
    this.envelopeBytes = replayEnvelopeBytes(channel);
  }

  /** Bytes of the replay frame packed so far. */
  get bytes(): number {
    return this.envelopeBytes + this.framesBytes + skippedBytes(this.skipped);
  }

  get empty(): boolean {
    return this.frames.length === 0 && this.skipped.length === 0;
  }

  /** Packs a delivery frame; returns the replay frame to post first when it does not fit beside the others. */
  add(seq: number, frame: string): ReplayChunk | undefined {
    const grow = Buffer.byteLength(frame) + (this.frames.length > 0 ? 1 : 0);
    const full = !this.empty && this.bytes + grow > this.maxBytes ? this.take() : undefined;
    this.framesBytes += Buffer.byteLength(frame) + (this.frames.length > 0 ? 1 : 0);
    this.frames.push(frame);
    this.lastSeq = seq;
    return full;
  }

  /** Notes a `seq` that holds no message; returns the replay frame to post first when it does not fit. */
  skip(seq: number): ReplayChunk | undefined {
    const grow = skippedBytes([...this.skipped, seq]) - skippedBytes(this.skipped);
    const full = !this.empty && this.bytes + grow > this.maxBytes ? this.take() : undefined;
    this.skipped.push(seq);
    this.lastSeq = seq;
    return full;
  }

  /** The replay frame packed so far (undefined when empty), and a fresh start. */
  take(): ReplayChunk | undefined {
    if (this.empty) return undefined;
    const chunk = { text: replayFrameText(this.channel, this.frames, this.skipped), messages: this.frames.length, lastSeq: this.lastSeq };
    this.frames = [];
    this.skipped = [];
    this.framesBytes = 0;
    return chunk;
  }
}

/** Options of {@link replay}; every one has a default (tests shrink them). */
export interface ReplayOptions {
  /** Default: the bulk poster (shared/clients.ts). */
  poster?: Poster;
  /** Default REPLAY_BUDGET_MS. */
  budgetMs?: number;
  /** Default HISTORY_SETTLE_MS. */
  settleMs?: number;
  /** Default REPLAY_FRAME_BYTES. */
  frameBytes?: number;
  /** History rows per Query page (default: DynamoDB's 1 MB pages). */
  pageSize?: number;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
  /** Sleep for backoff and settling (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplayResult {
  /** Posts accepted (replay frames, and the `history_gap` frame if any). */
  posts: number;
  /** Messages delivered. */
  replayed: number;
  /** Numbers reported as holding no message. */
  skipped: number;
  /** A `history_gap` was sent. */
  gap: boolean;
  /** The connection was gone (410); the replay stopped. */
  gone: boolean;
  /** Highest `seq` the client was told about (delivered, skipped, or inside the reported gap). */
  lastSeq: number;
}

/** Unwinds a replay whose connection is gone: nothing left to tell anyone. */
class ConnectionGone extends Error {}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function* rowsOf(pages: AsyncIterable<HistoryRow[]>): AsyncGenerator<HistoryRow> {
  for await (const page of pages) yield* page;
}

interface HistoryHead {
  rows: AsyncGenerator<HistoryRow>;
  /** First row to deliver (or to report skipped); undefined when none is left. */
  first: HistoryRow | undefined;
  /** A kept row at or before `start` exists: nothing after it can have expired. */
  anchored: boolean;
}

/**
 * Reads up to the first row the replay keeps. The row at `start` (the client's own `since`
 * message, when the whole range fits `HistorySize`) is read only as an anchor. Expired rows
 * before the first kept one are gone; once a row is kept, later rows are kept too even if they
 * expired a moment later (they are newer than a kept row: dropping them would be silent loss).
 */
async function openHistory(channel: string, start: number, latest: number, nowMs: number, pageSize?: number): Promise<HistoryHead> {
  const rows = rowsOf(historyPages(channel, start, latest, pageSize));
  const nowSeconds = Math.floor(nowMs / 1000);
  let anchored = false;
  for (;;) {
    const next = await rows.next();
    if (next.done) return { rows, first: undefined, anchored };
    const row = next.value;
    const kept = row.ttl > nowSeconds;
    if (row.seq === start) anchored = kept;
    else if (kept || anchored) return { rows, first: row, anchored };
  }
}

/**
 * Replays `channel` after `since` to `connectionId`, up to `sequence.seq` (the latest number the
 * join read; later messages arrive live). Throws ReplayIncompleteError when it cannot finish
 * within its budget; returns quietly when the connection is gone.
 */
export async function replay(
  connectionId: string,
  channel: string,
  since: number,
  sequence: SequenceState | undefined,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { posts: 0, replayed: 0, skipped: 0, gap: false, gone: false, lastSeq: since };
  const latest = sequence?.seq;
  if (sequence === undefined || latest === undefined || latest <= since) return result;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const poster = options.poster ?? bulkPoster();
  const deadline = now() + (options.budgetMs ?? REPLAY_BUDGET_MS);
  const start = Math.max(since, latest - config().historySize);
  // Numbers are taken in order, so every one up to `latest` was taken at or before
  // `allocatedAt`: from `settledAt` on, none of them can still be on its way.
  const settledAt = (sequence.allocatedAt ?? Number.NEGATIVE_INFINITY) + (options.settleMs ?? HISTORY_SETTLE_MS);
  const settle = async (): Promise<boolean> => {
    const wait = settledAt - now();
    if (wait <= 0) return true;
    if (now() + wait >= deadline) return false;
    await sleep(wait);
    return true;
  };
  const incomplete = (reason: string): ReplayIncompleteError => {
    logger.warn('replay incomplete', { channel, since, lastSeq: result.lastSeq, latest, reason });
    metrics.addMetric('ReplayIncomplete', 'Count', 1);
    return new ReplayIncompleteError(channel, result.lastSeq);
  };
  const checkDeadline = (): void => {
    if (now() >= deadline) throw incomplete('time budget spent');
  };
  const post = async (text: string, lastSeq: number, messages: number): Promise<void> => {
    const { outcome } = await postWithRetry(poster, connectionId, text, { deadline, now, sleep });
    if (outcome === 'gone') throw new ConnectionGone();
    if (outcome !== 'ok') throw incomplete(`post ${outcome}`);
    result.posts++;
    result.replayed += messages;
    result.lastSeq = lastSeq;
  };
  const packer = new ReplayPacker(channel, options.frameBytes ?? REPLAY_FRAME_BYTES);
  const postChunk = async (chunk: ReplayChunk | undefined): Promise<void> => {
    if (chunk) await post(chunk.text, chunk.lastSeq, chunk.messages);
  };
  const place = async (row: HistoryRow): Promise<void> => {
    if (row.frame === undefined) {
      result.skipped++;
      await postChunk(packer.skip(row.seq));
    } else await postChunk(packer.add(row.seq, row.frame));
  };
  /** Numbers `from..to` missing after a kept row: cannot have expired (see the module comment). */
  const fillHoles = async (from: number, to: number): Promise<void> => {
    // Not settled within the budget: they are on their way and arrive live.
    if (!(await settle())) return;
    let next = from;
    const claim = async (upTo: number): Promise<void> => {
      for (; next <= upTo; next++) {
        checkDeadline();
        if (await markSkipped(channel, next)) {
          result.skipped++;
          await postChunk(packer.skip(next));
        }
        // else: its message was written just now, after this replay's read: its fan-out delivers it.
      }
    };
    // Rows written while this replay read or waited are replayed rather than left to the fan-out.
    for await (const page of historyPages(channel, from, to, options.pageSize)) {
      for (const row of page) {
        await claim(row.seq - 1);
        await place(row);
        next = row.seq + 1;
      }
    }
    await claim(to);
  };

  let head = await openHistory(channel, start, latest, now(), options.pageSize);
  try {
    const headEnd = head.first?.seq ?? latest + 1;
    if (!head.anchored && headEnd > start + 1 && now() < settledAt && (await settle())) {
      // Missing numbers before every kept row may be publishes on their way: look again once they are settled.
      await head.rows.return(undefined);
      head = await openHistory(channel, start, latest, now(), options.pageSize);
    }
    // Before the first kept row (or up to `start` when anchored): gone for good.
    const lostTo = head.anchored ? start : (head.first?.seq ?? latest + 1) - 1;
    if (lostTo > since) {
      result.gap = true;
      const gap = new AirwaveError('history_gap', 'some messages after "since" are no longer kept', { channel, since, oldest: lostTo + 1 });
      await post(JSON.stringify(errorFrame(gap)), lostTo, 0);
    }
    let expected = lostTo + 1;
    for (let row = head.first; row !== undefined; row = (await head.rows.next()).value as HistoryRow | undefined) {
      checkDeadline();
      if (row.seq > expected) await fillHoles(expected, row.seq - 1);
      await place(row);
      expected = row.seq + 1;
    }
    if (expected <= latest) await fillHoles(expected, latest);
    await postChunk(packer.take());
  } catch (error) {
    if (error instanceof ConnectionGone) result.gone = true;
    else if (error instanceof ReplayIncompleteError) throw error;
    // A DynamoDB call that failed after part of the replay was posted: the client still learns
    // how far it got (the `internal_error` the route would answer would not say).
    else {
      logger.error('replay history step failed', error as Error);
      throw incomplete(`history step failed: ${(error as Error)?.name ?? 'error'}`);
    }
  } finally {
    await head.rows.return(undefined);
    metrics.addMetric('ReplayPosts', 'Count', result.posts);
  }
  return result;
}
