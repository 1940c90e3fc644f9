// The progress bar on stderr: only on a terminal, only for a check that takes more than about a
// second, redrawn at most ten times a second, with the time left estimated from the rate so far.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressTiming {
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
  /** The bar appears once this much time has passed and the whole check looks longer than `minTotalMs`. */
  delayMs?: number;
  minTotalMs?: number;
  /** Shortest time between two redraws. */
  intervalMs?: number;
}

export class ProgressBar {
  private readonly now: () => number;
  private readonly delayMs: number;
  private readonly minTotalMs: number;
  private readonly intervalMs: number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(private readonly stream: ProgressStream, timing: ProgressTiming = {}) {
    this.now = timing.now ?? (() => performance.now());
    this.delayMs = timing.delayMs ?? 300;
    this.minTotalMs = timing.minTotalMs ?? 1000;
    this.intervalMs = timing.intervalMs ?? 100;
    this.start = this.now();
  }

  update(done: number, total: number): void {
    if (!this.stream.isTTY || total <= 0 || done >= total) return;
    const t = this.now();
    const elapsed = t - this.start;
    if (t - this.lastDraw < this.intervalMs) return;
    if (!this.drawn) {
      const projected = done > 0 ? (elapsed * total) / done : Infinity;
      if (elapsed < this.delayMs || projected < this.minTotalMs) return;
    }
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r${progressLine(done, total, elapsed, this.stream.columns ?? 80)}\x1b[K`);
  }

  /** Erases the bar, so that what follows starts on a clean line. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** "checking ██████░░░░░░  45%  49,212/109,386 elements  2.3 s left", fitted to `width` columns. */
export function progressLine(done: number, total: number, elapsedMs: number, width: number): string {
  const fraction = Math.min(1, Math.max(0, done / total));
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const counts = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} elements`;
  const left = done > 0 ? `${duration((elapsedMs * (total - done)) / done)} left` : '';
  const text = ` ${percent}  ${counts}  ${left}`.trimEnd();
  const barWidth = Math.max(0, Math.min(30, width - 1 - 'checking '.length - text.length));
  if (barWidth < 5) return `checking${text}`.slice(0, Math.max(0, width - 1));
  const filled = Math.round(fraction * barWidth);
  return `checking ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}${text}`;
}

/** 0.4 s, 12 s, 3 min 05 s, 1 h 02 min. */
export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${Math.max(0.1, Math.round(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')} min`;
}
