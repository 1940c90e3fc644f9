// The SVG chart builders and the terminal bars on fixed inputs: the scales by known answers, each
// chart by its marks and labels, and a snapshot of each (one element per line, so diffs read well).
import { describe, expect, it } from 'vitest';
import { bar, gradientNormBars } from '../src/render/sparkline.js';
import {
  COLORS, decadeLabel, escapeXml, gradientFlowChart, histogramChart, linearDomain, linearTicks, logScale,
  relativeErrorChart, scatterChart, sweepChart, tickLabel,
} from '../src/render/svg.js';
import type { LayerHealth } from '../src/core/report.js';

const lines = (svg: string) => svg.replace(/></g, '>\n<');
const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;
/** The numbers of an attribute over every element carrying `cls` in its class. */
const attrOf = (svg: string, cls: string, attr: string) =>
  [...svg.matchAll(new RegExp(`<[a-z]+ [^>]*class="[^"]*${cls}[^"]*"[^>]*>`, 'g'))]
    .map((m) => Number(new RegExp(` ${attr}="([-\\d.]+)"`).exec(m[0])?.[1]));

describe('scales', () => {
  it('labels decades with superscripts', () => {
    expect(decadeLabel(-7)).toBe('10⁻⁷');
    expect(decadeLabel(0)).toBe('10⁰');
    expect(decadeLabel(12)).toBe('10¹²');
  });

  it('spans whole decades around the positive values and maps them logarithmically', () => {
    const s = logScale([3e-6, 0, NaN, 2e-3], 0, 600);
    expect([s.loExp, s.hiExp]).toEqual([-6, -2]);
    expect(s.at(1e-6)).toBe(0);
    expect(s.at(1e-2)).toBe(600);
    expect(s.at(1e-4)).toBeCloseTo(300, 10);
    expect(s.decades.every((d) => d.labelled)).toBe(true);
  });

  it('is one decade wide for a single value, 10⁻¹…10⁰ for none, and labels every k-th decade when wide', () => {
    expect(logScale([1e-3], 0, 1)).toMatchObject({ loExp: -3, hiExp: -2 });
    expect(logScale([0, NaN], 0, 1)).toMatchObject({ loExp: -1, hiExp: 0 });
    const wide = logScale([1e-20, 1], 0, 1);
    expect(wide.decades).toHaveLength(21);
    expect(wide.decades.filter((d) => d.labelled).map((d) => d.exponent)).toEqual([-20, -17, -14, -11, -8, -5, -2]);
  });

  it('puts linear ticks 1, 2 or 5 × 10ⁿ apart, without floating-point dust', () => {
    expect(linearTicks(0, 1)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    expect(linearTicks(-3e-6, 7e-6).ticks).toEqual([-2e-6, 0, 2e-6, 4e-6, 6e-6]);
    expect(linearDomain([-1.3, 0.2])).toEqual({ lo: -1.5, hi: 0.5, ticks: [-1.5, -1, -0.5, 0, 0.5] });
    expect(linearDomain([])).toEqual({ lo: 0, hi: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect([0, 0.25, -3, 2e-6, 15000, 0.30000000000000004].map(tickLabel)).toEqual(['0', '0.25', '-3', '2e-6', '1.5e4', '0.3']);
  });

  it('escapes text and attributes', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('gradient flow chart', () => {
  const points = [
    { label: 'layer 1', sublabel: 'tanh', analytic: 2.5e-5, numeric: 3.9e-6 },
    { label: 'layer 2', sublabel: 'tanh', analytic: 1e-3, numeric: 4e-6 },
    { label: 'layer 3', sublabel: '<expr>', analytic: 0, numeric: 2e-6 },
    { label: 'layer 4', sublabel: 'sigmoid', analytic: NaN, numeric: 2e-8 },
  ];
  const svg = gradientFlowChart(points);

  it('has a mark per layer and series, on a log axis with labelled decades', () => {
    expect(count(svg, /class="mark numeric"/g)).toBe(4);
    expect(count(svg, /class="mark analytic"/g)).toBe(4);
    for (let e = -8; e <= -3; e++) expect(svg).toContain(`>${decadeLabel(e)}</text>`);
    expect(svg).toContain('numeric (finite differences)');
    expect(svg).toContain('analytic (under test)');
  });

  it('draws 0 and NaN on labelled lanes instead of dropping them, and breaks the line there', () => {
    expect(svg).toContain('>0</text>');
    expect(svg).toContain('>NaN/∞</text>');
    expect(svg).toContain('layer 3 analytic (under test): 0');
    expect(svg).toContain('layer 4 analytic (under test): NaN');
    const analyticLine = /<path d="([^"]*)"[^>]*class="line analytic"/.exec(svg)![1];
    expect(analyticLine.match(/[ML]/g)).toEqual(['M', 'L']);
    expect(svg).toContain('&lt;expr&gt;');
  });

  it('puts larger norms higher', () => {
    const ys = attrOf(svg, 'mark numeric', 'cy');
    expect(ys[1]).toBeLessThan(ys[0]);
    expect(ys[3]).toBeGreaterThan(ys[2]);
  });

  it('matches its snapshot', () => {
    expect(lines(svg)).toMatchSnapshot();
  });
});

describe('relative error chart', () => {
  const items = [
    { label: 'W1', value: 0.72, status: 'fail' as const },
    { label: 'b1', value: 3e-8, status: 'warn' as const },
    { label: 'W2', value: 4e-12, status: 'pass' as const },
    { label: 'b2', value: 0, status: 'pass' as const },
    { label: 'W3', value: NaN, status: 'fail' as const },
  ];
  const svg = relativeErrorChart(items, 1e-6);

  it('shades pass below tolerance/100, warn up to the tolerance, fail above', () => {
    const band = (name: string) => new RegExp(`<rect x="([\\d.]+)" y="[\\d.]+" width="([\\d.]+)"[^>]*class="band ${name}"`).exec(svg)!;
    const s = logScale([4e-12, 3e-8, 0.72], 104, 880 - 72 - 44, [1e-9, 1e-5, 1]);
    const [pass, warn, fail] = [band('pass'), band('warn'), band('fail')];
    expect(Number(warn[1])).toBeCloseTo(s.at(1e-8), 0);
    expect(Number(fail[1])).toBeCloseTo(s.at(1e-6), 0);
    expect(Number(pass[1]) + Number(pass[2])).toBeCloseTo(Number(warn[1]), 0);
    expect(svg).toContain('tolerance 1.00e-6');
  });

  it('marks each tensor in its status colour, with 0 and NaN on labelled lanes', () => {
    expect(count(svg, /class="mark (pass|warn|fail)"/g)).toBe(5);
    expect(count(svg, new RegExp(`fill="${COLORS.fail}"[^>]*class="mark fail"`, 'g'))).toBe(2);
    expect(svg).toContain('>0</text>');
    expect(svg).toContain('>NaN</text>');
    expect(svg).toContain('b2: relative error 0 (pass)');
    const xs = attrOf(svg, 'mark', 'cx');
    expect(xs[0]).toBeGreaterThan(xs[1]);
    expect(xs[1]).toBeGreaterThan(xs[2]);
    expect(xs[3]).toBeLessThan(xs[2]);
    expect(xs[4]).toBeGreaterThan(xs[0]);
  });

  it('matches its snapshot', () => {
    expect(lines(svg)).toMatchSnapshot();
  });
});

describe('scatter chart', () => {
  const svg = scatterChart([1, 2, -1, Infinity], [1, 0.5, -1, 3], 'W<2>');

  it('plots finite pairs, says how many it could not, and draws y = x corner to corner', () => {
    expect(count(svg, /class="mark"/g)).toBe(3);
    expect(svg).toContain('1 pair with NaN/∞ not plotted');
    const d = /<path d="M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)"[^>]*class="identity"/.exec(svg)!.slice(1).map(Number);
    expect(d).toEqual([64, 268, 306, 26]);
    expect(svg).toContain('aria-label="W&lt;2&gt;: analytic');
  });

  it('puts agreeing elements on the diagonal', () => {
    const cx = attrOf(svg, 'mark', 'cx'), cy = attrOf(svg, 'mark', 'cy');
    // Both axes span the same domain over the same length, so x − left = bottom − y on the line.
    expect(cx[0] - 64).toBeCloseTo(268 - cy[0], 6);
    expect(cx[2] - 64).toBeCloseTo(268 - cy[2], 6);
    expect(cx[1] - 64).not.toBeCloseTo(268 - cy[1], 0);
  });

  it('matches its snapshot', () => {
    expect(lines(svg)).toMatchSnapshot();
  });
});

describe('histogram chart', () => {
  const edges = [-1, -0.5, 0, 0.5, 1];
  const svg = histogramChart(edges, [3, 0, 10, 1], 'layer 1', 2);

  it('draws a bar per non-empty bin, heights proportional to the counts', () => {
    expect(count(svg, /class="mark"/g)).toBe(3);
    const h = attrOf(svg, 'mark', 'height');
    expect(h[1] / h[0]).toBeCloseTo(10 / 3, 1);
    expect(svg).toContain('[0.5, 1]: 1');
    expect(svg).toContain('2 NaN/∞ not binned');
  });

  it('says so when there is nothing to draw', () => {
    expect(histogramChart([0, 1], [0], 'layer 9')).toContain('no finite activations');
  });

  it('matches its snapshot', () => {
    expect(lines(svg)).toMatchSnapshot();
  });
});

describe('step sweep chart', () => {
  const epsilons = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6];
  // backprop-check's differences: the ε² arm, then the bottom (one exact 0); plain subtraction: a V, then NaN.
  const accurate = [1e-2, 1e-4, 1e-6, 1e-8, 0, 2e-10];
  const plain = [1e-2, 1e-4, 1e-5, 1e-4, 1e-2, NaN];
  const svg = sweepChart(epsilons, accurate, plain, 1e-4, 1e-6);

  it('has a mark per step and series, with an accessible label naming the chosen ε', () => {
    expect(count(svg, /class="mark accurate"/g)).toBe(6);
    expect(count(svg, /class="mark plain"/g)).toBe(6);
    expect(svg).toContain('data-chart="sweep" role="img" aria-label="The worst tensor’s relative error against the step ε, log-log: backprop-check’s differences and plain subtraction; chosen ε = 1.00e-4"');
    expect(svg).toContain('backprop-check’s differences');
    expect(svg).toContain('plain (J(θ+ε) − J(θ−ε)) / 2ε');
    expect(svg).toContain('ε = 1e-3, plain (J(θ+ε) − J(θ−ε)) / 2ε: 1.00e-5');
  });

  it('puts ε falling from left to right, as in the terminal table, and larger errors higher, on log axes', () => {
    const xs = attrOf(svg, 'mark accurate', 'cx'), ys = attrOf(svg, 'mark accurate', 'cy');
    for (let i = 1; i < 6; i++) expect(xs[i]).toBeGreaterThan(xs[i - 1]);
    // Evenly spaced decades on both axes: the ε² arm is a straight line, two decades of error per decade of ε.
    expect(xs[1] - xs[0]).toBeCloseTo(xs[2] - xs[1], 6);
    expect(ys[1] - ys[0]).toBeCloseTo(ys[2] - ys[1], 6);
    expect(ys[1]).toBeGreaterThan(ys[0]);
    for (let e = -10; e <= -2; e++) expect(svg).toContain(`>${decadeLabel(e)}</text>`);
  });

  it('marks the chosen ε with a line at its x, and the tolerance', () => {
    const chosen = /<line x1="([\d.]+)" x2="([\d.]+)"[^>]*class="chosen"/.exec(svg)!;
    expect(Number(chosen[1])).toBe(attrOf(svg, 'mark accurate', 'cx')[3]);
    expect(svg).toContain('>chosen ε = 1.00e-4</text>');
    expect(svg).toContain('class="tolerance"');
    expect(svg).toContain('>tolerance 1.00e-6</text>');
  });

  it('draws 0 and NaN on labelled lanes instead of dropping them, and breaks the lines there', () => {
    expect(svg).toContain('>0</text>');
    expect(svg).toContain('>NaN/∞</text>');
    expect(svg).toContain('ε = 1e-5, backprop-check’s differences: 0');
    expect(svg).toContain('ε = 1e-6, plain (J(θ+ε) − J(θ−ε)) / 2ε: NaN');
    const line = (key: string) => new RegExp(`<path d="([^"]*)"[^>]*class="line ${key}"`).exec(svg)![1].match(/[ML]/g);
    expect(line('accurate')).toEqual(['M', 'L', 'L', 'L', 'M']);
    expect(line('plain')).toEqual(['M', 'L', 'L', 'L', 'L']);
  });

  it('matches its snapshot', () => {
    expect(lines(svg)).toMatchSnapshot();
  });
});

describe('terminal gradient-norm bars', () => {
  it('fills whole and eighth cells', () => {
    expect(bar(0, 4)).toBe('    ');
    expect(bar(0.5, 4)).toBe('██  ');
    expect(bar(1 / 32, 4)).toBe('▏   ');
    expect(bar(1, 4)).toBe('████');
    expect(bar(2, 4)).toBe('████');
  });

  it('draws one bar per layer on a log scale up to 1, and names 0 and NaN', () => {
    const layer = (n: number, activation: string, gradientNorm: number): LayerHealth =>
      ({ layer: n, activation, gradientNorm, saturation: 0, deadFraction: 0, weightScale: 0, recommendedScale: 0 });
    expect(gradientNormBars([layer(1, 'tanh', 1e-1), layer(2, 'tanh', 1e-4), layer(3, 'relu', 0), layer(4, 'sigmoid', NaN)], 10).join('\n'))
      .toMatchInlineSnapshot(`
        "gradient norm ‖∂J/∂W‖ per layer (log scale, 10⁻⁵ … 10⁰):
          layer 1 tanh    ▕████████  ▏ 0.1
          layer 2 tanh    ▕██        ▏ 1.00e-4
          layer 3 relu    ▕          ▏ 0 (no gradient)
          layer 4 sigmoid ▕          ▏ NaN (not finite)"
      `);
    expect(gradientNormBars([])).toEqual([]);
  });

  it('names an entry of another type by it, and an entry without parameters says so instead of a 0 bar (the scale is set by the others)', () => {
    const layers: LayerHealth[] = [
      { layer: 1, activation: 'relu', type: 'conv2d', gradientNorm: 1e-2, saturation: 0, deadFraction: 0, weightScale: 0.1 },
      { layer: 2, activation: 'linear', type: 'maxpool2d', noParameters: true, gradientNorm: 0, saturation: 0, deadFraction: 0, weightScale: 0 },
      { layer: 3, activation: 'softmax', gradientNorm: 1e-1, saturation: 0, deadFraction: 0, weightScale: 0.1 },
    ];
    expect(gradientNormBars(layers, 10).join('\n')).toMatchInlineSnapshot(`
      "gradient norm ‖∂J/∂W‖ per layer (log scale, 10⁻³ … 10⁰):
        layer 1 conv2d relu ▕███▍      ▏ 0.01
        layer 2 maxpool2d   ▕          ▏ (no parameters)
        layer 3 softmax     ▕██████▋   ▏ 0.1"
    `);
  });

  it('colours only the bar', () => {
    const [, line] = gradientNormBars([{ layer: 1, activation: 'tanh', gradientNorm: 1, saturation: 0, deadFraction: 0, weightScale: 0, recommendedScale: 0 }], 4, (s) => `<${s}>`);
    expect(line).toBe('  layer 1 tanh ▕<████>▏ 1');
  });
});
