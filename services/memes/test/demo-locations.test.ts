import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoCities, demoLocationOf, demoSpreadKm, withDemoLocation } from '../src/domain/demo-locations';
import { memesFromCorpus } from '../src/domain/meme-schema';
import { distanceKm } from '../src/data-access/meme-search-index';

const corpus = memesFromCorpus(readFileSync(join(__dirname, '../../../demo/memes/memegenerator-loc-sample.jsonl'), 'utf8'), '2026-01-01T00:00:00.000Z');

describe('demo locations', () => {
  it('when asked twice for the same meme, then the place is the same (a function of the memeId only)', () => {
    const first = corpus.map((meme) => demoLocationOf(meme.id));
    expect(corpus.map((meme) => demoLocationOf(meme.id))).toEqual(first);
    // pinned, so a change to the rules is a visible change to the demo (4.7466, -74.0757 is 4.0 km from Bogotá's centre)
    expect(first.slice(0, 3)).toEqual([{ lat: 4.74655, lon: -74.07569 }, undefined, undefined]);
    expect(first.filter(Boolean)).toHaveLength(1325);
  });

  it('when the corpus is placed, then about 30% of its memes get a place, each within 5 km of a demo city, every city used', () => {
    const placed = corpus.map(withDemoLocation).filter((meme) => meme.location);
    expect(placed.length / corpus.length).toBeGreaterThan(0.27);
    expect(placed.length / corpus.length).toBeLessThan(0.33);
    const citiesUsed = new Set<string>();
    for (const meme of placed) {
      const location = meme.location as { lat: number; lon: number };
      const city = demoCities.find((candidate) => distanceKm(candidate, location) <= demoSpreadKm + 0.01);
      expect(city).toBeDefined();
      citiesUsed.add(city?.name as string);
    }
    expect(citiesUsed.size).toBe(demoCities.length);
  });

  it('when a meme was created or already has a place, then it keeps what it has', () => {
    const meme = corpus.find((candidate) => demoLocationOf(candidate.id)) as (typeof corpus)[number];
    expect(withDemoLocation({ ...meme, source: 'created' }).location).toBeUndefined();
    expect(withDemoLocation({ ...meme, location: { lat: 1, lon: 2 } }).location).toEqual({ lat: 1, lon: 2 });
  });
});
