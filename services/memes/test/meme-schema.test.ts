import { memeFromCorpusRecord, memeSearchQuerySchema, newMemeSchema } from '../src/domain/meme-schema';

const issuesOf = (query: Record<string, string>) => {
  const result = memeSearchQuerySchema.safeParse(query);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('the search query', () => {
  it('when nothing is given, then it is a listing of 20 with no cursor', () => {
    expect(memeSearchQuerySchema.parse({})).toEqual({ limit: 20 });
  });

  it('when every parameter is given, then they are parsed to numbers and trimmed text', () => {
    expect(
      memeSearchQuerySchema.parse({ query: '  grumpy cat ', fuzzy: 'true', base: 'Grumpy Cat', lat: '-33.5', lon: '151', radiusKm: '2.5', limit: '100' }),
    ).toEqual({ query: 'grumpy cat', fuzzy: 'true', base: 'Grumpy Cat', lat: -33.5, lon: 151, radiusKm: 2.5, limit: 100 });
  });

  it('when the query has 1,000 characters, is empty, blank or has no letter or digit, then it is refused naming query', () => {
    expect(issuesOf({ query: 'a'.repeat(1000) })).toEqual(['query: must be at most 200 characters']);
    expect(issuesOf({ query: 'ä'.repeat(200) })).toEqual([]);
    expect(issuesOf({ query: '' })).toEqual(['query: must not be blank']);
    expect(issuesOf({ query: '   ' })).toEqual(['query: must not be blank']);
    expect(issuesOf({ query: '?!' })).toEqual(['query: must contain a letter or a digit']);
  });

  it('when lat comes without lon, or lon without lat, then the missing one is named', () => {
    expect(issuesOf({ lat: '40' })).toEqual(['lon: is required with lat']);
    expect(issuesOf({ lon: '40' })).toEqual(['lat: is required with lon']);
  });

  it('when radiusKm comes without lat and lon, then radiusKm is named', () => {
    expect(issuesOf({ radiusKm: '5' })).toEqual(['radiusKm: needs lat and lon']);
  });

  it('when a coordinate or radius is out of range or not a decimal number, then that field is named', () => {
    expect(issuesOf({ lat: '90.5', lon: '0' })).toEqual(['lat: must be at most 90']);
    expect(issuesOf({ lat: '0', lon: '-180.01' })).toEqual(['lon: must be at least -180']);
    expect(issuesOf({ lat: '', lon: '0' })).toEqual(['lat: must be a decimal number']);
    expect(issuesOf({ lat: '0x10', lon: '0' })).toEqual(['lat: must be a decimal number']);
    expect(issuesOf({ lat: '0', lon: '0', radiusKm: '0' })).toEqual(['radiusKm: must be above 0']);
    expect(issuesOf({ lat: '0', lon: '0', radiusKm: '20001' })).toEqual(['radiusKm: must be at most 20000']);
  });

  it('when fuzzy, limit or an unknown parameter is wrong, then it is named', () => {
    expect(issuesOf({ fuzzy: 'yes' })).toHaveLength(1);
    expect(issuesOf({ limit: '101' })).toEqual(['limit: must be at most 100']);
    expect(issuesOf({ q: 'cat' })).toEqual([': Unrecognized key: "q"']);
  });
});

describe('a new meme', () => {
  it('when a caption is null or absent, then it is empty; text is trimmed', () => {
    expect(newMemeSchema.parse({ baseName: ' Grumpy Cat ', upperText: null })).toEqual({ baseName: 'Grumpy Cat', upperText: '', lowerText: '' });
  });

  it('when the base is blank, too long, or a caption or coordinate is out of range, then that field is named', () => {
    const paths = (input: unknown) => {
      const result = newMemeSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));
    };
    expect(paths({ baseName: ' ' })).toEqual(['baseName']);
    expect(paths({ baseName: 'b'.repeat(101) })).toEqual(['baseName']);
    expect(paths({ baseName: 'b', upperText: 'u'.repeat(501) })).toEqual(['upperText']);
    expect(paths({ baseName: 'b', location: { lat: 91, lon: 0 } })).toEqual(['location.lat']);
    expect(paths({ baseName: 'b', location: { lat: 0 } })).toEqual(['location.lon']);
  });
});

describe('a corpus line', () => {
  it('when it has a base name, then it is a corpus meme with its id; without one it is skipped', () => {
    const line = { memeId: '32207992', baseMemeName: 'Baby Courage Wolf', upperText: 'si no das like', lowerText: null };
    expect(memeFromCorpusRecord(line, '2026-01-01T00:00:00.000Z')).toEqual({
      id: '32207992',
      baseName: 'Baby Courage Wolf',
      upperText: 'si no das like',
      lowerText: '',
      source: 'corpus',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(memeFromCorpusRecord({ ...line, baseMemeName: null }, '2026-01-01T00:00:00.000Z')).toBeUndefined();
  });
});
