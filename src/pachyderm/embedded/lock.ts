/**
 * One writing process per data directory. The embedded engine notifies waits and subscriptions
 * in-process (no polling), so a second process writing the same directory would go unseen by
 * the first one's subscribers; this lock refuses it with a clear error instead. Readers
 * (`readonly` opens, e.g. the CLI) take no lock.
 *
 * The lock is the file `<dataDir>/writer.pid` holding the writer's process id. A lock whose process
 * is gone (crash, `kill -9`) is taken over. Several engines of the same process may share it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '../errors';

/** File name of the writer lock inside the data directory. */
export const LOCK_FILE = 'writer.pid';

const held = new Map<string, number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the writer lock of `dir` for this process.
 * @returns a function releasing it (idempotent), with `first` = true when no other engine of this
 *   process held it (so no write of this process can be in flight in the directory)
 * @throws PachError FAILED_PRECONDITION "data directory D is in use by process N"
 */
export function acquireWriterLock(dir: string): (() => void) & { first: boolean } {
  const file = path.join(dir, LOCK_FILE);
  const count = held.get(file) ?? 0;
  if (count === 0) {
    for (;;) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(fs.readFileSync(file, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw failedPrecondition(
            `data directory ${dir} is in use by process ${pid} (one writer per directory; open it readonly to read)`,
          );
        }
        fs.rmSync(file, { force: true });
      }
    }
  }
  held.set(file, count + 1);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const n = (held.get(file) ?? 1) - 1;
    if (n > 0) {
      held.set(file, n);
      return;
    }
    held.delete(file);
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
    } catch {
      // already gone
    }
  };
  return Object.assign(release, { first: count === 0 });
}
