import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { claimDataDir, DataDirInUse, ownerFileName } from '../src/data-dir';

describe('claiming a data folder', () => {
  let runDir: string;
  beforeEach(() => {
    runDir = mkdtempSync(path.join(tmpdir(), 'mercato-data-'));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('when another running platform holds the folder, then the claim fails naming its pid and MERCATO_DATA_DIR', async () => {
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(path.join(runDir, ownerFileName), String(other.pid));
      expect(() => claimDataDir(runDir)).toThrow(DataDirInUse);
      expect(() => claimDataDir(runDir)).toThrow(new RegExp(`pid ${other.pid}.*MERCATO_DATA_DIR`));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('when the holder is gone (killed before it could clean up), then the claim takes over; release frees it', async () => {
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(path.join(runDir, ownerFileName), String(gone.pid));
    const release = claimDataDir(runDir);
    expect(existsSync(path.join(runDir, ownerFileName))).toBe(true);
    release();
    expect(existsSync(path.join(runDir, ownerFileName))).toBe(false);
  });
});
