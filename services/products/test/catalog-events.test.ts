import type { CloudEvent } from '@mercato/platform';
import type { Product } from '../src/domain/product-schema';
import type { ProductSearchIndex } from '../src/domain/product-search';
import { applyCatalogEvent, type IndexTargets } from '../src/entry-points/events/catalog-events';

/** Records what the index was told; the index's own rules are tested in product-search-index.test.ts. */
function recordingTargets() {
  const calls: string[] = [];
  const index = {
    upsert: (p: Product) => calls.push(`upsert ${p.id} v${p.version}`) > 0,
    remove: (id: string, version: number) => calls.push(`remove ${id} v${version}`) > 0,
    placeCategory: (id: string, ancestors: readonly string[]) => void calls.push(`place ${id} [${ancestors.join(',')}]`),
    forgetCategory: (id: string) => void calls.push(`forget ${id}`),
  } as unknown as ProductSearchIndex;
  const observed: string[] = [];
  const targets: IndexTargets = { index, cache: { observed: (key, version) => void observed.push(`${key} v${version}`) }, categoryClock: new Map() };
  return { targets, calls, observed };
}

const event = (type: string, subject: string, data: unknown) => ({ type, subject, data }) as CloudEvent;
const product = (id: string, version: number) => ({ id, version }) as Product;

describe('catalog events applied to a replica\'s index', () => {
  it('when a product is created, changed or deleted, then the index and the cache hear of it with its version', () => {
    const { targets, calls, observed } = recordingTargets();
    expect(applyCatalogEvent(event('catalog.product.created', 'p1', product('p1', 1)), targets)).toBe('success');
    expect(applyCatalogEvent(event('catalog.product.updated', 'p1', { before: product('p1', 1), after: product('p1', 2) }), targets)).toBe('success');
    expect(applyCatalogEvent(event('catalog.product.deleted', 'p1', { before: product('p1', 2), version: 3 }), targets)).toBe('success');
    expect(calls).toEqual(['upsert p1 v1', 'upsert p1 v2', 'remove p1 v3']);
    expect(observed).toEqual(['p1 v1', 'p1 v2', 'p1 v3']);
  });

  it('when category changes arrive late or twice, then only the newest place counts', () => {
    const { targets, calls } = recordingTargets();
    const at = (ancestors: string[], updatedAt: string) => ({ id: 'c1', ancestors, updatedAt });
    applyCatalogEvent(event('catalog.category.updated', 'c1', { before: at([], '1'), after: at(['a'], '2026-01-02') }), targets);
    applyCatalogEvent(event('catalog.category.updated', 'c1', { before: at([], '1'), after: at(['b'], '2026-01-01') }), targets);
    applyCatalogEvent(event('catalog.category.updated', 'c1', { before: at([], '1'), after: at(['a'], '2026-01-02') }), targets);
    applyCatalogEvent(event('catalog.category.deleted', 'c1', at(['a'], '2026-01-03')), targets);
    expect(calls).toEqual(['place c1 [a]', 'forget c1']);
  });

  it('when an event belongs to another domain, then it is acknowledged untouched; a malformed catalog event is dropped', () => {
    const { targets, calls } = recordingTargets();
    expect(applyCatalogEvent(event('sequence.block.reserved', 's', {}), targets)).toBe('success');
    expect(applyCatalogEvent(event('catalog.product.updated', 'p1', { after: { id: 'p1' } }), targets)).toBe('drop');
    expect(applyCatalogEvent(event('catalog.product.deleted', 'p1', {}), targets)).toBe('drop');
    expect(calls).toEqual([]);
  });
});
