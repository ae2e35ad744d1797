/**
 * Frames from the service (docs/protocol.md), parsed defensively: a field of the wrong type is
 * treated as absent, never trusted, and never thrown about.
 */

/** A service frame with its fields checked. `channel` is '' when the frame names none. */
export interface ServiceFrame {
  /** `message`, `replay`, `sent`, `joined`, `left`, `pong`, `error`; `gateway` for API Gateway's own untyped answers; `bad` otherwise. */
  type: string;
  channel: string;
  id?: string;
  seq?: number;
  /** The sender's tag, echoed in a `sent` receipt or in the error its send caused. */
  ref?: string;
  message: unknown;
  /** Every field as received (error frames pass their details on). */
  raw: Record<string, unknown>;
}

/** A non-negative safe integer, or undefined. */
export const seqOf = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;

export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Parses one text frame. */
export function parseServiceFrame(text: string): ServiceFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  return serviceFrame(raw);
}

/** Checks the fields of one parsed frame (also each frame inside a `replay`). */
export function serviceFrame(raw: unknown): ServiceFrame {
  const frame = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  // API Gateway's own answers carry no `type`: {"message":"Internal server error",...} when a
  // route's Lambda failed, {"message":"Forbidden",...} for a frame with no route.
  const type = str(frame.type) ?? (str(frame.message) !== undefined ? 'gateway' : 'bad');
  return {
    type,
    channel: str(frame.channel) ?? '',
    id: str(frame.id),
    seq: seqOf(frame.seq),
    ref: str(frame.ref),
    message: frame.message,
    raw: frame,
  };
}
