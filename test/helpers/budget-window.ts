/**
 * Budgets count per clock minute (shared/connection-store.ts `currentWindow`): a test that spends
 * one several times and expects a refusal must do it inside one window, or the count starts over
 * and the refusal never comes (seen once on moto, where 7 publishes took long enough to straddle
 * a minute).
 */
import { BUDGET_WINDOW_SECONDS } from '../../shared/limits.js';

/** Waits for the next window if fewer than `seconds` are left of the current one. */
export async function inOneBudgetWindow(seconds = 15): Promise<void> {
  const windowMs = BUDGET_WINDOW_SECONDS * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
