/**
 * Structured JSON logs and CloudWatch EMF metrics (Powertools for AWS Lambda). Service name,
 * namespace and level come from the POWERTOOLS_* variables the template sets.
 *
 * Never log a token: `redactQuery` strips it from query strings before anything is logged.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics();
export { MetricUnit };

const SECRET_QUERY_KEYS = new Set(['token', 'access_token', 'id_token', 'authorization']);

/** A copy of a query-string map with secret values replaced, safe to log. */
export function redactQuery(query: Record<string, string | undefined> | null | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query ?? {})) out[key] = SECRET_QUERY_KEYS.has(key.toLowerCase()) ? '[redacted]' : value;
  return out;
}

/** Flushes stored EMF metrics, if any (an empty flush only logs a warning). */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
