// Seeded randomness: every random choice in backprop-check goes through this generator, so the
// same seed gives the same weights, samples and directions on every machine.

/** A seeded generator of float64 numbers in [0, 1) with 53 random bits (two mulberry32 draws). */
export class Random {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that 0, 1, 2, … give unrelated streams.
    this.state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  }

  private next32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  uniform(): number {
    const hi = this.next32() >>> 5; // 27 bits
    const lo = this.next32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal draw (Box–Muller; one of the pair is used, for simplicity of the stream). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills v with standard normal draws, two per accepted pair (Marsaglia's polar method): four
   * times faster than normal() one by one, for the million draws of a 784×128 tensor's directions.
   */
  fillNormal(v: Float64Array): Float64Array {
    for (let i = 0; i < v.length;) {
      let x: number, y: number, s: number;
      do {
        x = 2 * this.uniform() - 1;
        y = 2 * this.uniform() - 1;
        s = x * x + y * y;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      v[i++] = x * f;
      if (i < v.length) v[i++] = y * f;
    }
    return v;
  }

  /** A direction drawn uniformly from the unit sphere in n dimensions. */
  unitVector(n: number): Float64Array {
    const v = this.fillNormal(new Float64Array(n));
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i] * v[i];
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < n; i++) v[i] *= inv;
    return v;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** k distinct indices of [0, n), in increasing order (partial Fisher–Yates). */
  sample(n: number, k: number): number[] {
    const take = Math.min(k, n);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < take; i++) {
      const j = i + this.int(n - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, take).sort((x, y) => x - y);
  }
}
