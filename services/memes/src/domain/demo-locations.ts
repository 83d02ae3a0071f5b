import { createHash } from 'node:crypto';
import { seededRandom } from '@mercato/platform';
import { earthRadiusKm, type GeoPoint, type Meme } from './meme-schema';

/**
 * Demo locations for the corpus. The memegenerator.net corpus says nothing about where a meme was made, so geo search
 * would find nothing in the demo; this gives about 30% of the corpus memes a made-up place near one of 20 cities.
 *
 * The assignment is a pure function of the memeId (no state, no clock, no Math.random): the same meme gets the same
 * place on every run, on every replica and in every test, and a meme's place does not depend on which other memes are
 * imported. For each memeId:
 *   1. seed = the first 32 bits of SHA-256("mercato-demo-location:" + memeId), the state of a mulberry32 generator;
 *   2. the first draw u1 decides whether the meme gets a place at all (u1 < `demoLocationShare`);
 *   3. the second picks the city (uniformly among `demoCities`);
 *   4. the third and fourth place it uniformly on a disc of `demoSpreadKm` around the city centre (distance
 *      `demoSpreadKm` × √u3, bearing 360° × u4, on a sphere of the Earth's mean radius);
 *   5. coordinates are rounded to 5 decimals (about 1 m).
 * Changing any constant here moves the demo's places (and what a geo search over the demo finds), nothing else.
 */
export const demoLocationShare = 0.3;
export const demoSpreadKm = 5;

/** City centres (WGS 84, from each city's Wikipedia coordinates, to 4 decimals), spread over every inhabited continent. */
export const demoCities: ReadonlyArray<{ name: string } & GeoPoint> = [
  { name: 'New York', lat: 40.7128, lon: -74.006 },
  { name: 'Mexico City', lat: 19.4326, lon: -99.1332 },
  { name: 'São Paulo', lat: -23.5505, lon: -46.6333 },
  { name: 'Buenos Aires', lat: -34.6037, lon: -58.3816 },
  { name: 'Bogotá', lat: 4.711, lon: -74.0721 },
  { name: 'Los Angeles', lat: 34.0522, lon: -118.2437 },
  { name: 'Toronto', lat: 43.6532, lon: -79.3832 },
  { name: 'London', lat: 51.5074, lon: -0.1278 },
  { name: 'Madrid', lat: 40.4168, lon: -3.7038 },
  { name: 'Paris', lat: 48.8566, lon: 2.3522 },
  { name: 'Berlin', lat: 52.52, lon: 13.405 },
  { name: 'Moscow', lat: 55.7558, lon: 37.6173 },
  { name: 'Saint Petersburg', lat: 59.9311, lon: 30.3609 },
  { name: 'Kyiv', lat: 50.4501, lon: 30.5234 },
  { name: 'Cairo', lat: 30.0444, lon: 31.2357 },
  { name: 'Lagos', lat: 6.5244, lon: 3.3792 },
  { name: 'Mumbai', lat: 19.076, lon: 72.8777 },
  { name: 'Tokyo', lat: 35.6762, lon: 139.6503 },
  { name: 'Sydney', lat: -33.8688, lon: 151.2093 },
  { name: 'Auckland', lat: -36.8485, lon: 174.7633 },
];


const seedOf = (memeId: string) => createHash('sha256').update(`mercato-demo-location:${memeId}`).digest().readUInt32BE(0);

const radians = (degrees: number) => (degrees * Math.PI) / 180;
const degrees = (radiansValue: number) => (radiansValue * 180) / Math.PI;
const roundTo5 = (value: number) => Math.round(value * 1e5) / 1e5;

/** The point `distanceKm` from `origin` along the initial bearing `bearing` (radians), on a sphere. */
function destination(origin: GeoPoint, distanceKm: number, bearing: number): GeoPoint {
  const angle = distanceKm / earthRadiusKm;
  const lat1 = radians(origin.lat);
  const lon1 = radians(origin.lon);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(angle) + Math.cos(lat1) * Math.sin(angle) * Math.cos(bearing));
  const lon2 = lon1 + Math.atan2(Math.sin(bearing) * Math.sin(angle) * Math.cos(lat1), Math.cos(angle) - Math.sin(lat1) * Math.sin(lat2));
  // Normalise the longitude to [-180, 180) (no demo city is near the antimeridian, but the rule should hold anyway).
  return { lat: roundTo5(degrees(lat2)), lon: roundTo5(((degrees(lon2) + 540) % 360) - 180) };
}

/** The demo place of a corpus meme, or undefined for the ~70% that get none (see the rules above). */
export function demoLocationOf(memeId: string): GeoPoint | undefined {
  const draw = seededRandom(seedOf(memeId));
  if (draw() >= demoLocationShare) return undefined;
  const city = demoCities[Math.floor(draw() * demoCities.length)] as GeoPoint;
  const distanceKm = demoSpreadKm * Math.sqrt(draw());
  return destination(city, distanceKm, 2 * Math.PI * draw());
}

/** A corpus meme with its demo place, if it gets one; a meme that has a location already keeps it. */
export function withDemoLocation(meme: Meme): Meme {
  if (meme.location || meme.source !== 'corpus') return meme;
  const location = demoLocationOf(meme.id);
  return location ? { ...meme, location } : meme;
}
