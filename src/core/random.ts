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
