import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

/** The meme corpus the memes service ships as demo data (demo/memes, with its source note). */
export const demoMemesFile = path.join(repoRoot, 'demo', 'memes', 'memegenerator-loc-sample.jsonl');

/** Lines per import call: the service's default maximum. */
const chunk = 1000;

/**
 * Loads the meme corpus through the memes service's import endpoint (admin), as any client would: every line is
 * sent, and lines already stored are skipped by the service, so loading again changes nothing.
 */
export async function loadDemoMemes(options: { ingressUrl: string; token: () => Promise<string>; progress?: (message: string) => void }): Promise<{ created: number; skipped: number }> {
  const lines = readFileSync(demoMemesFile, 'utf8').split('\n').filter((line) => line.trim());
  let created = 0;
  let skipped = 0;
  for (let start = 0; start < lines.length; start += chunk) {
    const body = `[${lines.slice(start, start + chunk).join(',')}]`;
    const response = await fetch(`${options.ingressUrl}/api/memes/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await options.token()}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(60_000),
    });
    if (!response.ok) throw new Error(`the memes import answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    const answer = (await response.json()) as { created: number; skipped: number };
    created += answer.created;
    skipped += answer.skipped;
  }
  options.progress?.(`demo memes: ${created} created, ${skipped} already there (or without a base meme)`);
  return { created, skipped };
}
