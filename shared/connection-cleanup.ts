/**
 * Removing a connection for good, at `$disconnect` or when a post finds it gone (410): its rows
 * (shared/connection-store.ts), then its presence memberships, whose last connection leaving
 * sends the channel a leave event (shared/presence.ts). Apart from both modules because presence
 * events are delivered through the fan-out, whose 410 cleanup is this function: keeping it here
 * keeps the import graph free of cycles.
 */
import { deleteConnectionRows } from './connection-store.js';
import { leaveMemberships } from './presence.js';

/** Deletes every row of `connectionId` and ends its presence memberships. Idempotent; returns the rows deleted. */
export async function removeConnection(connectionId: string): Promise<number> {
  const { removed, memberships } = await deleteConnectionRows(connectionId);
  if (memberships.length > 0) await leaveMemberships(connectionId, memberships);
  return removed;
}
