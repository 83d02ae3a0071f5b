import { rebaseAncestors } from '../src/data-access/category-repository';

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
