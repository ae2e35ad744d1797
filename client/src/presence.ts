/**
 * The live member list of one presence channel, built from the service's snapshots (the
 * `joined` ack's `members`, a `members` answer) and its `presence` events.
 *
 * Events come from different invocations and may arrive in any order, so they are applied by
 * version: every membership has its own `v` (higher for every new one), and its join and leave
 * carry it. A member is present when the highest `v` seen joining is above the highest seen
 * leaving. A leave seen before its join therefore wins, and nothing is added twice.
 *
 * A snapshot replaces the list (what the client knew before may have missed leaves while it was
 * disconnected), then the events received since the snapshot was asked for are applied again on
 * top: they may be newer than the snapshot. Leaves are remembered across snapshots (a leave
 * stays true), so a late join event of an ended membership never brings it back.
 */
import type { PresenceMember } from './types.js';

/** How many ended memberships are remembered (oldest forgotten first). */
const REMEMBERED_LEAVES = 1_000;

interface Change {
  event: 'join' | 'leave';
  member: PresenceMember;
}

/** A member as a frame carries it, or undefined when a field is missing or of the wrong type. */
export function memberOf(raw: unknown): PresenceMember | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const { id, v, info } = raw as Record<string, unknown>;
  if (typeof id !== 'string' || typeof v !== 'number' || !Number.isSafeInteger(v)) return undefined;
  return typeof info === 'string' ? { id, v, info } : { id, v };
}

export class PresenceList {
  /** True once a snapshot came: the channel is a presence channel. */
  active = false;
  /** This client's own member id (from the last `joined` ack). */
  self?: string;
  private present = new Map<string, PresenceMember>();
  private left = new Map<string, number>();
  /** Snapshots asked for and not answered yet; while any is, events are also logged. */
  private pending = 0;
  private log: Change[] = [];

  /** A join or `members` frame went out: log events until its snapshot comes back. */
  requested(): void {
    if (this.pending++ === 0) this.log = [];
  }

  /** A requested snapshot will never come (its link closed, or it was refused). */
  abandoned(): void {
    if (this.pending > 0 && --this.pending === 0) this.log = [];
  }

  /** Applies one event; true when the list changed. */
  event(event: 'join' | 'leave', member: PresenceMember): boolean {
    if (this.pending > 0) this.log.push({ event, member });
    return this.apply(event, member);
  }

  /** Replaces the list by a snapshot, then re-applies the events received since it was asked for. */
  snapshot(members: PresenceMember[], self?: string): void {
    this.active = true;
    if (self !== undefined) this.self = self;
    this.present = new Map();
    for (const member of members) this.apply('join', member);
    for (const change of this.log) this.apply(change.event, change.member);
    this.abandoned();
  }

  /** The members, oldest membership first. */
  list(): PresenceMember[] {
    return [...this.present.values()].sort((a, b) => a.v - b.v);
  }

  private apply(event: 'join' | 'leave', member: PresenceMember): boolean {
    const current = this.present.get(member.id);
    if (event === 'leave') {
      if ((this.left.get(member.id) ?? 0) < member.v) {
        this.left.delete(member.id); // re-inserted last: the map's order is the age of the leave
        this.left.set(member.id, member.v);
        if (this.left.size > REMEMBERED_LEAVES) this.left.delete(this.left.keys().next().value as string);
      }
      if (current && current.v <= member.v) {
        this.present.delete(member.id);
        return true;
      }
      return false;
    }
    if ((this.left.get(member.id) ?? 0) >= member.v) return false;
    if (current && current.v >= member.v) return false;
    this.present.set(member.id, member);
    return true;
  }
}
