/**
 * Budgets: how many publishes and replays a connection, and all connections of one principal
 * together, may make per minute. Both are checked; the connection's first, so a client that
 * spends its own budget does not also drain its principal's. A refusal is a `rate_limited`
 * error naming the budget, its scope and when the window ends.
 */
import { config } from './config.js';
import { type BudgetKind, spendConnectionBudget, spendPrincipalBudget } from './connection-store.js';
import { RateLimitedError } from './errors.js';
import { presenceSettings } from './presence-settings.js';

export interface BudgetOwner {
  connectionId: string;
  principalKey: string;
}

function limits(kind: BudgetKind): { connection: number; principal: number } {
  const c = config();
  if (kind === 'presence') {
    const p = presenceSettings();
    return { connection: p.perMinute, principal: p.principalPerMinute };
  }
  return kind === 'publish'
    ? { connection: c.publishPerMinute, principal: c.principalPublishPerMinute }
    : { connection: c.replayPerMinute, principal: c.principalReplayPerMinute };
}

/**
 * Spends one unit of `kind`. Returns `spent`, or `gone` when the connection no longer exists
 * (nothing was written for it); throws RateLimitedError when either budget is spent.
 */
export async function spend(owner: BudgetOwner, kind: BudgetKind, channel?: string): Promise<'spent' | 'gone'> {
  const limit = limits(kind);
  const own = await spendConnectionBudget(owner.connectionId, kind);
  if (own === undefined) return 'gone';
  // The refusal is logged at WARN where it becomes a frame (shared/handler.ts), once.
  if (own.count > limit.connection) throw new RateLimitedError(own.retryAfter, kind, 'connection', channel);
  const shared = await spendPrincipalBudget(owner.principalKey, kind);
  if (shared.count > limit.principal) throw new RateLimitedError(shared.retryAfter, kind, 'principal', channel);
  return 'spent';
}
