import { expect } from 'chai';
import { decades, escapeXml, renderLineChart, spreadLabels } from '../../../bench/lib/svg-chart.js';

const chart = (overrides: Partial<Parameters<typeof renderLineChart>[0]> = {}) =>
  renderLineChart({
    title: 'Delivery <time>',
    xLabel: 'subscribers',
    yLabel: 'seconds',
    formatX: (x) => `${x}`,
    formatY: (y) => `${y} ms`,
    series: [
      {
        name: 'ours',
        color: '#1f77b4',
        points: [
          { x: 1_000, y: 40, label: '40 ms' },
          { x: 100_000, y: 10_200 },
        ],
      },
      {
        name: 'floor',
        color: '#555',
        points: [
          { x: 1_000, y: 15 },
          { x: 100_000, y: 9_500 },
        ],
        markers: false,
        dash: '2 3',
      },
    ],
    ...overrides,
  });

describe('bench/lib/svg-chart', () => {
  describe('decades', () => {
    it('spans the powers of ten around the values', () => {
      expect(decades(15, 9_500)).to.deep.equal([10, 100, 1_000, 10_000]);
      expect(decades(1_000, 1_000)).to.deep.equal([1_000]);
    });

    it('refuses a range a log axis cannot show', () => {
      expect(() => decades(0, 10)).to.throw(RangeError);
    });
  });

  describe('escapeXml', () => {
    it('escapes markup characters', () => {
      expect(escapeXml(`a<b>&"c'`)).to.equal('a&#60;b&#62;&#38;&#34;c&#39;');
    });
  });

  describe('renderLineChart', () => {
    it('draws one polyline per series and markers only where asked', () => {
      const svg = chart();
      expect(svg.match(/<polyline /g)).to.have.length(2);
      expect(svg.match(/<circle /g)).to.have.length(2);
      expect(svg).to.include('stroke-dasharray="2 3"');
    });

    it('labels points, decade ticks and the legend, escaping text', () => {
      const svg = chart();
      expect(svg).to.include('>40 ms</text>');
      expect(svg).to.include('>10000 ms</text>');
      expect(svg).to.include('>floor</text>');
      expect(svg).to.include('Delivery &#60;time&#62;');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
    });

    it('places a larger value higher on the chart', () => {
      const svg = chart({
        series: [
          {
            name: 's',
            color: '#000',
            points: [
              { x: 10, y: 10 },
              { x: 100, y: 1_000 },
            ],
          },
        ],
      });
      const [low, high] = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
      expect(high).to.be.lessThan(low);
    });

    it('refuses values a log axis cannot show', () => {
      expect(() => chart({ series: [{ name: 's', color: '#000', points: [{ x: 0, y: 1 }] }] })).to.throw(RangeError, 'positive');
    });
  });
});

describe('bench/lib/svg-chart spreadLabels', () => {
  it('pushes a label down until it clears the one above it at the same x', () => {
    const spread = spreadLabels([
      { x: 100, y: 50 },
      { x: 100, y: 45 },
      { x: 300, y: 46 },
    ]);
    expect(spread.map((l) => l.y)).to.deep.equal([58, 45, 46]);
  });
});
