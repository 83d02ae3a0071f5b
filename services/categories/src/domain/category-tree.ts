import type { Category, CategoryNode } from './category-schema';

const bySlug = (a: Category, b: Category) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0);

/**
 * Nests flat categories: the children of `topParentId` (null: the roots), each with its own children sorted by slug,
 * keeping `depth` levels below that top level (undefined: all of them). `childCount` stays the full count where the
 * depth cut children off, so a client can tell a leaf from a node it did not ask to open.
 */
export function nestCategories(categories: readonly Category[], topParentId: string | null, depth?: number): CategoryNode[] {
  const childrenOf = new Map<string | null, Category[]>();
  for (const category of categories) {
    const siblings = childrenOf.get(category.parentId);
    if (siblings) siblings.push(category);
    else childrenOf.set(category.parentId, [category]);
  }
  for (const siblings of childrenOf.values()) siblings.sort(bySlug);

  const nest = (parentId: string | null, level: number): CategoryNode[] =>
    (childrenOf.get(parentId) ?? []).map((category) => {
      const below = childrenOf.get(category.id)?.length ?? 0;
      const open = depth === undefined || level < depth;
      return { ...category, childCount: below, children: open && below > 0 ? nest(category.id, level + 1) : [] };
    });
  return nest(topParentId, 0);
}
