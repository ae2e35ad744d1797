/** Dollars: a month of usage priced line by line with bench/prices.ts, and split back by cause. */
import { METERING, PRICES, type PriceBook, usdFor } from '../prices.js';
import { messageCost } from './metering.js';
import { type Activity, sum, type Usage } from './usage.js';

export type Component =
  | 'API Gateway connection-minutes'
  | 'API Gateway messages'
  | 'Lambda requests'
  | 'Lambda duration (arm64)'
  | 'DynamoDB writes'
  | 'DynamoDB reads'
  | 'CloudWatch Logs ingestion'
  | 'X-Ray traces';

export interface BillLine {
  component: Component;
  quantity: number;
  unit: string;
  usd: number;
}

export interface Bill {
  lines: BillLine[];
  total: number;
  /** The total split by cause, each component shared in proportion to the activity's quantity. */
  activities: { name: string; usd: number }[];
}

/** Prices a month of usage, message tiers applied to the month's total. */
export function priceActivities(activities: Activity[], prices: PriceBook = PRICES): Bill {
  const u = sum(...activities.map((a) => a.usage));
  const rows: [Component, number, string, number, keyof Usage][] = [
    [
      'API Gateway connection-minutes',
      u.connectionMinutes,
      'minutes',
      usdFor(u.connectionMinutes, prices.connectionMinutes),
      'connectionMinutes',
    ],
    ['API Gateway messages', u.messages, 'messages', messageCost(u.messages, prices), 'messages'],
    ['Lambda requests', u.lambdaRequests, 'requests', usdFor(u.lambdaRequests, prices.lambdaRequests), 'lambdaRequests'],
    ['Lambda duration (arm64)', u.lambdaGbSeconds, 'GB-s', usdFor(u.lambdaGbSeconds, prices.lambdaArmGbSecond), 'lambdaGbSeconds'],
    ['DynamoDB writes', u.writeUnits, 'WRU', usdFor(u.writeUnits, prices.dynamoWriteUnits), 'writeUnits'],
    ['DynamoDB reads', u.readUnits, 'RRU', usdFor(u.readUnits, prices.dynamoReadUnits), 'readUnits'],
    [
      'CloudWatch Logs ingestion',
      u.logBytes / METERING.gigabyteBytes,
      'GB',
      usdFor(u.logBytes / METERING.gigabyteBytes, prices.logsIngestion),
      'logBytes',
    ],
    ['X-Ray traces', u.traces, 'traces', usdFor(u.traces, prices.xrayTraces), 'traces'],
  ];
  const lines = rows.map(([component, quantity, unit, usd]) => ({ component, quantity, unit, usd }));
  const share = (a: Activity) => rows.reduce((acc, [, , , usd, key]) => acc + (u[key] > 0 ? (usd * a.usage[key]) / u[key] : 0), 0);
  return {
    lines,
    total: lines.reduce((acc, l) => acc + l.usd, 0),
    activities: activities.map((a) => ({ name: a.name, usd: share(a) })),
  };
}
