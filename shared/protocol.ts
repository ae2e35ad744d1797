/**
 * Frames the service sends (docs/protocol.md). Pure: no AWS client. Every outgoing frame is
 * built here so the wire format has one definition.
 */
import type { AirwaveError, ErrorCode } from './errors.js';

/** A member of a presence channel as frames carry it (shared/presence.ts). */
export interface PresenceMember {
  /** The principal (`sub`), or with AuthMode=none a hash of the connection id. */
  id: string;
  /** Increases with every new membership in the channel: a leave of `v` ends exactly the join of `v`. */
  v: number;
  /** Public info from the PresenceInfoClaim claim, if any. */
  info?: string;
}

export type ServerFrame =
  | {
      type: 'joined';
      channel: string;
      connectionId: string;
      seq?: number;
      replay?: 'refused';
      retryAfter?: number;
      members?: PresenceMember[];
      self?: string;
    }
  | { type: 'members'; channel: string; members: PresenceMember[] }
  | { type: 'presence'; channel: string; event: 'join' | 'leave'; member: PresenceMember }
  | { type: 'left'; channel: string }
  | { type: 'message'; channel: string; message: unknown; id: string; seq?: number }
  | { type: 'replay'; channel: string; messages: unknown[]; skipped?: number[] }
  | { type: 'sent'; channel: string; id: string; seq?: number; ref?: string }
  | { type: 'pong' }
  | { type: 'error'; code: ErrorCode; message: string; [extra: string]: unknown };

/**
 * The join ack. `refusedReplay`: the join asked for a replay (`since`) that its budget refused;
 * the ack then says so (`replay: "refused"`, `retryAfter` seconds), so that its `seq` (the
 * channel's latest) is not taken to mean the client has caught up to it.
 */
export const joinedFrame = (channel: string, connectionId: string, seq?: number, refusedReplay?: { retryAfter: number }): ServerFrame => ({
  type: 'joined',
  channel,
  connectionId,
  ...(seq === undefined ? {} : { seq }),
  ...(refusedReplay ? { replay: 'refused' as const, retryAfter: refusedReplay.retryAfter } : {}),
});

/** `presence`: a member came (`join`) or its last connection left (`leave`). */
export const presenceFrameText = (channel: string, event: 'join' | 'leave', member: PresenceMember): string =>
  JSON.stringify({ type: 'presence', channel, event, member } satisfies ServerFrame);

export const membersFrame = (channel: string, members: PresenceMember[]): ServerFrame => ({ type: 'members', channel, members });

export const leftFrame = (channel: string): ServerFrame => ({ type: 'left', channel });

/** `ref`: the sender's own tag for the frame, echoed so it can match the receipt to its send. */
export const sentFrame = (channel: string, id: string, seq?: number, ref?: string): ServerFrame => ({
  type: 'sent',
  channel,
  id,
  ...(seq === undefined ? {} : { seq }),
  ...(ref === undefined ? {} : { ref }),
});

export const pongFrame = (): ServerFrame => ({ type: 'pong' });

/**
 * The delivery frame as text. Built once per published message and posted unchanged to every
 * subscriber, so a signer can hash the payload once.
 */
export function messageFrameText(channel: string, message: unknown, id: string, seq?: number): string {
  const frame: ServerFrame = seq === undefined ? { type: 'message', channel, message, id } : { type: 'message', channel, message, id, seq };
  return JSON.stringify(frame);
}

/**
 * A replay frame as text: `{"type":"replay","channel":C,"messages":[F1,F2,...]}`, each Fi a
 * delivery frame exactly as it was posted live (oldest first), plus `"skipped":[N,...]` when
 * some numbers in its range hold no message (their publish failed). Built by concatenating the
 * stored frame texts, which are JSON already: parsing and re-serialising up to 128 KB per post
 * would cost CPU for nothing. Its size in bytes is {@link replayFrameBytes}.
 */
export function replayFrameText(channel: string, frames: readonly string[], skipped: readonly number[] = []): string {
  const tail = skipped.length > 0 ? `],"skipped":[${skipped.join(',')}]}` : ']}';
  return `{"type":"replay","channel":${JSON.stringify(channel)},"messages":[${frames.join(',')}${tail}`;
}

/** UTF-8 bytes of a replay frame with no message and nothing skipped (the envelope). */
export const replayEnvelopeBytes = (channel: string): number => Buffer.byteLength(replayFrameText(channel, []));

/** UTF-8 bytes `skipped` adds to a replay frame. */
export const skippedBytes = (skipped: readonly number[]): number =>
  skipped.length === 0 ? 0 : ',"skipped":[]'.length + skipped.reduce((n, seq) => n + String(seq).length, 0) + skipped.length - 1;

/** Error frame from an AirwaveError: code, human text and the error's public details only. */
export function errorFrame(error: AirwaveError): ServerFrame {
  return { ...error.details, type: 'error', code: error.code, message: error.message };
}

export const internalErrorFrame = (): ServerFrame => ({
  type: 'error',
  code: 'internal_error',
  message: 'internal error',
});
