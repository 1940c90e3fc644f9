// Nothing an --exec program starts outlives the check: not what it left in its process group, not
// a child that left the group (setsid), not even when backprop-check itself is killed with
// SIGKILL, which no handler can see. Each program here starts sleeps with a unique number of
// seconds, so that /proc can be searched for them by command line afterwards.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execGradients, execPayload } from '../src/io/exec.js';
import { spawnCli } from './helpers/cli.js';
import { goneSoon, sleeping, until } from './helpers/processes.js';
import { fixtureNetwork } from './helpers/network.js';

const { model, params, X, Y } = fixtureNetwork('xor', 3);
const payload = execPayload(X, Y, params);
const tmp = mkdtempSync(join(tmpdir(), 'bpc-lifetime-'));
const zeros = JSON.stringify({ dW1: [[0, 0], [0, 0], [0, 0], [0, 0]], db1: [[0], [0], [0], [0]], dW2: [[0, 0, 0, 0]], db2: [[0]] });

/** A number of seconds no other test sleeps for, to find this test's sleeps by. */
let nextMarker = 4100 + (process.pid % 500) * 10;
const marker = () => String(nextMarker++);


describe('the lifetime of what --exec starts', () => {
  it('kills a setsid child after the program has answered', async () => {
    const m = marker();
    const grads = await execGradients(`setsid sleep ${m} > /dev/null 2>&1 < /dev/null & sleep 0.3; echo '${zeros}'`, payload, model, { stderr: null, timeoutSeconds: 20 });
    expect(grads).toHaveLength(2);
    expect(await goneSoon(() => sleeping(m))).toBe(true);
  });

  it('kills a setsid child that also cleared its environment, seen while its parent lived', async () => {
    const m = marker();
    await execGradients(`env -i /usr/bin/setsid sleep ${m} > /dev/null 2>&1 < /dev/null & sleep 0.5; echo '${zeros}'`, payload, model, { stderr: null, timeoutSeconds: 20 });
    expect(await goneSoon(() => sleeping(m))).toBe(true);
  });

  it('kills a setsid grandchild whose parent exited at once (an orphan, found by its environment)', async () => {
    const m = marker();
    await execGradients(`sh -c 'setsid sleep ${m} > /dev/null 2>&1 < /dev/null &'; sleep 0.3; echo '${zeros}'`, payload, model, { stderr: null, timeoutSeconds: 20 });
    expect(await goneSoon(() => sleeping(m))).toBe(true);
  });

  it('kills the program, its group and its setsid child on a timeout', async () => {
    const a = marker(), b = marker();
    await expect(execGradients(`setsid sleep ${a} > /dev/null 2>&1 < /dev/null & sleep ${b}`, payload, model, { stderr: null, timeoutSeconds: 0.5 }))
      .rejects.toThrow(/found no answer after 0.5 s \(its process group was killed\)/);
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => sleeping(b))).toBe(true);
  });

  it('leaves nothing running when backprop-check is killed with SIGKILL during --exec', async () => {
    const a = marker(), b = marker();
    const cli = spawnCli(['fixtures/xor/net.json', 'fixtures/xor/data.csv', '--exec', `setsid sleep ${a} > /dev/null 2>&1 < /dev/null & sleep ${b}`], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => cli.on('exit', (_code, signal) => resolve(signal)));
    await until(() => sleeping(a).length > 0 && sleeping(b).length > 0);
    expect(sleeping(a)).toHaveLength(1);
    expect(sleeping(b)).toHaveLength(1);
    cli.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await goneSoon(() => sleeping(a))).toBe(true);
    expect(await goneSoon(() => sleeping(b))).toBe(true);
  });

  it('still reports the program’s own death by a signal and its exit status', async () => {
    await expect(execGradients('kill -TERM $$', payload, model, { stderr: null, timeoutSeconds: 20 })).rejects.toThrow(/found death by signal SIGTERM\.$/);
    await expect(execGradients('exit 7', payload, model, { stderr: null, timeoutSeconds: 20 })).rejects.toThrow(/found exit status 7\.$/);
  });

  it('has /proc to search (the tests above would prove nothing without it)', () => {
    expect(existsSync('/proc/self/cmdline')).toBe(true);
  });
});
