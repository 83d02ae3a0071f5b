import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** The file that says which running devstack owns a data folder; scripts/start.sh reads it too. */
export const ownerFileName = 'mercato.pid';

export class DataDirInUse extends Error {
  constructor(readonly runDir: string, readonly pid: number) {
    super(
      `${runDir} is in use by another running Mercato (pid ${pid}); stop it first, or give this one its own folder: MERCATO_DATA_DIR=<folder> npm start`,
    );
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Claims a data folder for this process, so two platforms never run Redis, FerretDB and the scheduler on the same
 * files. A claim left by a process that is gone (killed with SIGKILL) is taken over. Returns the release function.
 */
export function claimDataDir(runDir: string): () => void {
  mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, ownerFileName);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) throw new DataDirInUse(runDir, owner);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not claim ${runDir}`);
}
