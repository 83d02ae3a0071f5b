import { rebaseAncestors } from '../src/data-access/category-repository';
import type { Category, CategoryNode } from '../src/domain/category-schema';
import { nestCategories } from '../src/domain/category-tree';

describe('rebaseAncestors (a descendant\'s path after a move)', () => {
  const [root, oldParent, moved, child, grandchild, newRoot, newParent] = ['r', 'o', 'm', 'c', 'g', 'R', 'N'];

  it('when the moved node goes under a new parent, then the path above it is replaced and the path below it kept', () => {
    expect(rebaseAncestors(moved, [newRoot, newParent], [root, oldParent, moved, child])).toEqual([newRoot, newParent, moved, child]);
  });

  it('when the moved node becomes a root, then a descendant\'s path starts at the moved node', () => {
    expect(rebaseAncestors(moved, [], [root, oldParent, moved])).toEqual([moved]);
  });

  it('when it runs again on an already rewritten path (a repair), then nothing changes', () => {
    const once = rebaseAncestors(moved, [newParent], [root, moved, child, grandchild]);
    expect(rebaseAncestors(moved, [newParent], once)).toEqual(once);
  });

  it('when the node is not below the moved one, then its path is kept as it is', () => {
    expect(rebaseAncestors(moved, [newParent], [root, oldParent])).toEqual([root, oldParent]);
  });
});

describe('nestCategories (the nested tree)', () => {
  let counter = 0;
  const category = (slug: string, parent?: Category): Category => ({
    id: `id-${(counter += 1)}-${slug}`,
    name: slug,
    slug,
    parentId: parent?.id ?? null,
    ancestors: parent ? [...parent.ancestors, parent.id] : [],
    description: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    version: 1,
  });
  const home = category('home');
  const audio = category('audio');
  const kitchen = category('kitchen', home);
  const bedroom = category('bedroom', home);
  const pans = category('pans', kitchen);
  const flat = [pans, kitchen, home, bedroom, audio];
  const shape = (nodes: CategoryNode[]): unknown => nodes.map((n) => ({ [n.slug]: n.childCount, children: shape(n.children) }));

  it('when nested without a depth, then every level is there and each node\'s children are sorted by slug', () => {
    expect(shape(nestCategories(flat, null))).toEqual([
      { audio: 0, children: [] },
      { home: 2, children: [{ bedroom: 0, children: [] }, { kitchen: 1, children: [{ pans: 0, children: [] }] }] },
    ]);
  });

  it('when the depth is 0, then only the top level comes, each node still counting the children it was not given', () => {
    expect(shape(nestCategories(flat, null, 0))).toEqual([{ audio: 0, children: [] }, { home: 2, children: [] }]);
  });

  it('when the depth is 1, then one level below the top level comes', () => {
    expect(shape(nestCategories(flat, null, 1))).toEqual([
      { audio: 0, children: [] },
      { home: 2, children: [{ bedroom: 0, children: [] }, { kitchen: 1, children: [] }] },
    ]);
  });

  it('when nested below a parent, then the top level is its children', () => {
    expect(shape(nestCategories([kitchen, pans, bedroom], home.id))).toEqual([
      { bedroom: 0, children: [] },
      { kitchen: 1, children: [{ pans: 0, children: [] }] },
    ]);
  });
});
