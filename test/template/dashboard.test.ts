// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders are matched as written.
/**
 * The operations dashboard: its body is valid JSON once CloudFormation substitutes it, it names
 * only metrics that exist (the custom ones are those the code emits with `metrics.addMetric`),
 * and it shows what an operator watches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadTemplate } from '../helpers/template.js';
import { REPO_ROOT } from '../local/support.js';

/** Every `metrics.addMetric('Name', ...)` in the deployed code (shared/ and functions/). */
function emittedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts'))
        for (const m of readFileSync(path, 'utf8').matchAll(/\.addMetric\(\s*'([A-Za-z0-9]+)'/g)) names.add(m[1]);
    }
  };
  walk(join(REPO_ROOT, 'shared'));
  walk(join(REPO_ROOT, 'functions'));
  return names;
}

type MetricRow = [string, string, ...unknown[]];
interface Widget {
  type: string;
  properties: { title: string; region: string; metrics?: MetricRow[] };
}

describe('template.yaml operations dashboard', () => {
  const template = loadTemplate();
  const dashboard = template.Resources.OperationsDashboard;
  const body: string = dashboard.Properties.DashboardBody['Fn::Sub'];
  const variables = template.Globals.Function.Environment.Variables;
  const namespace: string = variables.POWERTOOLS_METRICS_NAMESPACE;
  const service: string = variables.POWERTOOLS_SERVICE_NAME;
  const placeholders = [...body.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
  const parsed = JSON.parse(body.replace(/\$\{([^}]+)\}/g, (_m, name: string) => `<${name}>`)) as { widgets: Widget[] };
  const rows = parsed.widgets.flatMap((w) => w.properties.metrics ?? []);
  /** `namespace/name` of every metric, with its dimensions as `name=value`. */
  const metrics = rows.map(([ns, name, ...rest]) => {
    const dimensions = rest.filter((v) => typeof v === 'string') as string[];
    const pairs: string[] = [];
    for (let i = 0; i + 1 < dimensions.length; i += 2) pairs.push(`${dimensions[i]}=${dimensions[i + 1]}`);
    return { id: `${ns}/${name}`, namespace: ns, name, dimensions: pairs };
  });

  it('is a CloudWatch dashboard whose body is JSON once substituted', () => {
    expect(dashboard.Type).to.equal('AWS::CloudWatch::Dashboard');
    expect(parsed.widgets.length).to.be.greaterThan(0);
    for (const widget of parsed.widgets) expect(widget.properties.region, widget.properties.title).to.equal('<AWS::Region>');
  });

  it('substitutes only parameters, resources (and their attributes) and pseudo parameters of the template', () => {
    for (const name of placeholders) {
      const [id] = name.split('.');
      const known = id.startsWith('AWS::') || id in template.Parameters || id in template.Resources;
      expect(known, name).to.equal(true);
    }
  });

  it('names only custom metrics the code emits, in its namespace and with its service dimension', () => {
    const emitted = emittedMetricNames();
    expect(emitted.size).to.be.greaterThan(5);
    const custom = metrics.filter((m) => !m.namespace.startsWith('AWS/'));
    expect(custom.length).to.be.greaterThan(0);
    for (const metric of custom) {
      expect(metric.namespace, metric.id).to.equal(namespace);
      expect(emitted, metric.id).to.include(metric.name);
      expect(metric.dimensions, metric.id).to.deep.equal([`service=${service}`]);
    }
  });

  it('shows connections, messages, errors, fan-out duration, delivery outcomes and the dead-letter queue', () => {
    const api = ['ApiId=<WebSocketApi>', 'Stage=<StageName>'];
    for (const name of ['ConnectCount', 'MessageCount', 'IntegrationError', 'ClientError', 'ExecutionError']) {
      const metric = metrics.find((m) => m.id === `AWS/ApiGateway/${name}`);
      expect(metric?.dimensions, name).to.deep.equal(api);
    }
    const ids = metrics.map((m) => m.id);
    for (const name of ['Deliveries', 'GoneConnections', 'ThrottledPosts', 'UndeliveredPosts', 'FailedDeliveries', 'FanoutDuration'])
      expect(ids, name).to.include(`${namespace}/${name}`);
    const durations = metrics.filter((m) => m.id === 'AWS/Lambda/Duration').flatMap((m) => m.dimensions);
    expect(durations).to.include.members(['FunctionName=<FanoutFunction>', 'FunctionName=<PublishFunction>']);
    const queue = metrics.find((m) => m.id === 'AWS/SQS/ApproximateNumberOfMessagesVisible');
    expect(queue?.dimensions).to.deep.equal(['QueueName=<FanoutDeadLetterQueue.QueueName>']);
  });

  it('alarms, too, only on custom metrics the code emits', () => {
    const emitted = emittedMetricNames();
    for (const [id, resource] of Object.entries<{ Type: string; Properties: { Namespace: string; MetricName: string } }>(
      template.Resources,
    )) {
      if (resource.Type !== 'AWS::CloudWatch::Alarm' || resource.Properties.Namespace !== namespace) continue;
      expect(emitted, id).to.include(resource.Properties.MetricName);
    }
  });
});
