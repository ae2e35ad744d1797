/**
 * Every price the cost model uses, in one place: US East (N. Virginia), on-demand, without free
 * tiers or Savings Plans. Each entry names the page it comes from and the date it was read.
 *
 * How the numbers were checked (read on the date below, through stored copies of the pages):
 * - The API Gateway pricing page's text confirms the *shape* of the WebSocket bill ("messages
 *   sent and received and connection minutes", "messages are metered in 32 KB increments, so a
 *   33 KB message counts as two"); its rate tables render client-side and show no numbers in the
 *   stored copy, so the WebSocket rates are the ones recorded in
 *   shared/reference/aws-websocket-facts.md (same page).
 * - The Lambda arm64 rate matches the per-Region price table published with artillery's Lambda
 *   runner (1,333,340 × 1e-11 $/GB-s), which cites the Lambda pricing page.
 * - X-Ray's rate is the AWS X-Ray pricing page's; no stored copy of that page had it, so check it
 *   before quoting the X-Ray line.
 * Change a price here and every table follows; nothing else in bench/ holds a dollar figure.
 */

/** One metered price: `usd` dollars per `per` units of `unit`. */
export interface Price {
  usd: number;
  per: number;
  unit: string;
  /** The page the price comes from (name and address). */
  source: string;
  /** ISO date the page was read. */
  read: string;
}

/** The date the prices below were read. */
export const PRICES_READ = '2026-11-28';
export const PRICES_REGION = 'us-east-1';

const API_GATEWAY_PAGE = 'Amazon API Gateway pricing, https://aws.amazon.com/api-gateway/pricing/';
const LAMBDA_PAGE = 'AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/';
const DYNAMODB_PAGE = 'Amazon DynamoDB pricing for on-demand capacity, https://aws.amazon.com/dynamodb/pricing/on-demand/';
const CLOUDWATCH_PAGE = 'Amazon CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/';
const XRAY_PAGE = 'AWS X-Ray pricing, https://aws.amazon.com/xray/pricing/';

export interface PriceBook {
  /** WebSocket connection-minutes. */
  connectionMinutes: Price;
  /** WebSocket messages (either direction, per 32 KB unit), up to `messageTierUnits` a month. */
  messagesFirstTier: Price;
  /** WebSocket messages beyond `messageTierUnits` a month. */
  messagesAboveTier: Price;
  /** Messages a month billed at the first-tier rate. */
  messageTierUnits: number;
  lambdaRequests: Price;
  /** Lambda duration on arm64 (Graviton), first 7.5 billion GB-s a month. */
  lambdaArmGbSecond: Price;
  /** DynamoDB on-demand write request units (1 KB each). */
  dynamoWriteUnits: Price;
  /** DynamoDB on-demand read request units (4 KB strongly consistent, 8 KB eventually). */
  dynamoReadUnits: Price;
  /** CloudWatch Logs ingestion (standard class; Lambda's first tier). */
  logsIngestion: Price;
  /** X-Ray traces recorded. */
  xrayTraces: Price;
}

export const PRICES: PriceBook = {
  connectionMinutes: { usd: 0.25, per: 1e6, unit: 'connection-minute', source: API_GATEWAY_PAGE, read: PRICES_READ },
  messagesFirstTier: { usd: 1.0, per: 1e6, unit: 'message (32 KB unit)', source: API_GATEWAY_PAGE, read: PRICES_READ },
  messagesAboveTier: { usd: 0.8, per: 1e6, unit: 'message (32 KB unit)', source: API_GATEWAY_PAGE, read: PRICES_READ },
  messageTierUnits: 1e9,
  lambdaRequests: { usd: 0.2, per: 1e6, unit: 'request', source: LAMBDA_PAGE, read: PRICES_READ },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 1, unit: 'GB-second (arm64)', source: LAMBDA_PAGE, read: PRICES_READ },
  dynamoWriteUnits: { usd: 0.625, per: 1e6, unit: 'write request unit', source: DYNAMODB_PAGE, read: PRICES_READ },
  dynamoReadUnits: { usd: 0.125, per: 1e6, unit: 'read request unit', source: DYNAMODB_PAGE, read: PRICES_READ },
  logsIngestion: { usd: 0.5, per: 1, unit: 'GB ingested', source: CLOUDWATCH_PAGE, read: PRICES_READ },
  xrayTraces: { usd: 5.0, per: 1e6, unit: 'trace recorded', source: XRAY_PAGE, read: PRICES_READ },
};

/**
 * How the services meter what they bill (from the same pages): the units a request is rounded
 * up to. Kept beside the prices because a unit change is a price change.
 */
export const METERING = {
  /** API Gateway WebSocket: a message is billed per started 32 KB (33 KB = 2 messages). */
  messageUnitBytes: 32 * 1024,
  /** DynamoDB: a write unit covers 1 KB of item; a GSI the item is projected into adds its own. */
  writeUnitBytes: 1024,
  /** DynamoDB: a read unit covers 4 KB read strongly consistent; eventually consistent costs half. */
  readUnitBytes: 4 * 1024,
  /** DynamoDB: one Query or Scan page reads at most 1 MB (rounded up per page, not per item). */
  pageBytes: 1024 * 1024,
  /** CloudWatch bills a GB as 2^30 bytes. */
  gigabyteBytes: 1024 ** 3,
} as const;

/**
 * Dollars for `quantity` units at `price` (every bill in bench/ prices its lines with this).
 * @example usdFor(2_000_000, PRICES.messagesFirstTier) // 2
 */
export const usdFor = (quantity: number, price: Pick<Price, 'usd' | 'per'>): number => (quantity * price.usd) / price.per;
