// Real disk conditions for the failure tests: a small tmpfs that fills up (ENOSPC), remounted
// read-only (EROFS), and immutable files (chattr +i). Needs root (CI runs as root). Where it is
// not permitted, callers fall back to a simulation and must say so in the test output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Changes the size limit (e.g. to free space again). */
  resize(bytes: number): void;
  readOnly(on: boolean): void;
  unmount(): void;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function why(err: unknown): string {
  const e = err as { stderr?: Buffer; message?: string };
  return (e.stderr?.toString().trim() || e.message || String(err)).split('\n')[0]!;
}

/** Mounts a tmpfs of `bytes` on a fresh folder, or says why it cannot. */
export function mountTmpfs(bytes: number): Tmpfs | { unavailable: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dc-tmpfs-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0777`, 'tmpfs', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `mounting a tmpfs is not permitted here (${why(err)})` };
  }
  let mounted = true;
  const m: Tmpfs = {
    dir,
    resize: (n) => run('mount', ['-o', `remount,size=${n}`, dir]),
    readOnly: (on) => run('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir]),
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      run('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(m);
  return m;
}

const live = new Set<Tmpfs>();

/** Unmounts what the tests mounted and left (after a failure); a busy one is left to the OS. */
export function unmountAll(): void {
  for (const m of live) {
    try {
      m.unmount();
    } catch {
      /* busy */
    }
  }
  live.clear();
}

/** Sets or clears the immutable attribute (chattr +i), or says why it cannot. */
export function setImmutable(path: string, on: boolean): true | { unavailable: string } {
  try {
    run('chattr', [on ? '+i' : '-i', path]);
    return true;
  } catch (err) {
    return { unavailable: `chattr ${on ? '+i' : '-i'} is not permitted here (${why(err)})` };
  }
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
