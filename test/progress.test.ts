// The progress bar: what one line says, and when it is drawn (a fake clock and a fake stream).
import { describe, expect, it } from 'vitest';
import { duration, ProgressBar, progressLine } from '../src/render/progress.js';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 100, writes, write: (s: string) => { writes.push(s); return true; } };
}

describe('progressLine', () => {
  it('shows the bar, the percentage, the counts and the time left from the rate so far', () => {
    // 45% done in 2 s: 55% more takes 2.4 s.
    expect(progressLine(45, 100, 2000, 100)).toBe(`checking ${'█'.repeat(14)}${'░'.repeat(16)}  45%  45/100 elements  2.4 s left`);
  });

  it('groups thousands and fits a narrow terminal by shortening the bar, then dropping it', () => {
    const line = progressLine(49212, 109386, 3000, 70);
    expect(line).toMatch(/^checking █+░+  44%  49,212\/109,386 elements  3\.7 s left$/);
    expect(line.length).toBeLessThanOrEqual(69);
    expect(progressLine(1, 2, 1000, 40)).toBe('checking  50%  1/2 elements  1.0 s left');
    expect(progressLine(0, 2, 1000, 100)).toBe(`checking ${'░'.repeat(30)}   0%  0/2 elements`);
  });

  it('durations: tenths below 10 s, seconds below a minute, then minutes and hours', () => {
    expect([duration(30), duration(2400), duration(12_400), duration(185_000), duration(3_725_000)])
      .toEqual(['0.1 s', '2.4 s', '12 s', '3 min 05 s', '1 h 02 min']);
  });
});

describe('ProgressBar', () => {
  it('draws nothing when stderr is not a terminal', () => {
    let t = 0;
    const s = stream(false);
    const bar = new ProgressBar(s, { now: () => t });
    for (t = 0; t < 5000; t += 50) bar.update(t, 10_000);
    bar.clear();
    expect(s.writes).toEqual([]);
  });

  it('waits until the check looks longer than a second, redraws at most every 100 ms, and clears its line', () => {
    let t = 0;
    const s = stream(true);
    const bar = new ProgressBar(s, { now: () => t });
    t = 200; bar.update(50, 100); // too early
    t = 400; bar.update(90, 100); // 0.44 s in all: too short to bother
    expect(s.writes).toEqual([]);
    const slow = stream(true);
    t = 0;
    const bar2 = new ProgressBar(slow, { now: () => t });
    t = 300; bar2.update(10, 100); // 3 s in all: drawn
    t = 350; bar2.update(12, 100); // within 100 ms: not drawn
    t = 420; bar2.update(14, 100);
    t = 500; bar2.update(100, 100); // done: the caller clears
    expect(slow.writes).toHaveLength(2);
    expect(slow.writes[0]).toMatch(/^\rchecking .* 10%  10\/100 elements  2\.7 s left\x1b\[K$/);
    bar2.clear();
    bar2.clear();
    expect(slow.writes.slice(2)).toEqual(['\r\x1b[K']);
  });
});
