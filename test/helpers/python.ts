// A Python that can import what a test needs. Debian's packages (python3-numpy, python3-torch) load
// in /usr/bin/python3; the python3 first on PATH may be a separate build without them. A test that
// needs them fails loudly without them (.ci/run installs them), never skips.
import { spawnSync } from 'node:child_process';

export function pythonWith(modules: string, why: string): string {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(candidate, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(`${why} need python3 with ${modules}: .ci/run installs the Debian packages when they are missing.`);
}
