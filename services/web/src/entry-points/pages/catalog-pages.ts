import { AppError } from '@mercato/platform';
import { Router, type Response } from 'express';
import type { PlatformApi } from '../../data-access/platform-api';
import { catalogSearchOf, formatMoney, majorUnitsOf, searchLink } from '../../domain/catalog-search';
import { problemViewOf } from '../../domain/problem-view';
import { productBodyOf, productFormOf } from '../../domain/product-form';
import { requireAbility, requireSignIn, routeId, viewerOfResponse } from './guards';
import type { Pages } from './render';

interface CategoryNode { id: string; name: string; slug: string; parentId: string | null; children: CategoryNode[]; version: number }
interface Product {
  id: string; sku: string; name: string; description: string; categoryIds: string[]; price: { amount: number; currency: string };
  attributes: Record<string, string | number | boolean>; tags: string[]; stock: number; status: string; updatedAt: string; version: number;
}
interface SearchAnswer {
  items: Product[];
  total: number;
  nextCursor: string | null;
  facets: { categories: Record<string, number>; attributes: Record<string, Record<string, number>>; price: Array<{ min: number; max?: number; count: number }> };
}

const flatten = (nodes: CategoryNode[], depth = 0): Array<CategoryNode & { depth: number }> =>
  nodes.flatMap((node) => [{ ...node, depth }, ...flatten(node.children, depth + 1)]);

/** Catalog: search with filters and facet counts, category navigation, product pages, editors' forms. */
export function catalogPages(api: PlatformApi, pages: Pages, currency: string): Router {
  const router = Router();
  const categoryTree = async () => (await api.get<{ items: CategoryNode[] }>('categories', '/categories', { tree: true, depth: 10 })).body.items;
  const view = { formatMoney, searchLink };

  router.get('/', async (req, res) => {
    if (!viewerOfResponse(res).signedIn) {
      pages.send(res, 200, 'welcome', { title: 'Welcome' });
      return;
    }
    const search = catalogSearchOf(req.query as Record<string, unknown>);
    const tree = await categoryTree();
    let results: SearchAnswer | undefined;
    let problem;
    if (Object.keys(search.fieldErrors).length === 0) {
      try {
        results = (await api.get<SearchAnswer>('products', '/products', { ...search.apiQuery, limit: 12 })).body;
      } catch (error) {
        // A filter the API refuses is shown on the page with the search; an outage is the outage page.
        if (!(error instanceof AppError) || error.status !== 400) throw error;
        problem = problemViewOf(error);
      }
    }
    const categoryNames = Object.fromEntries(flatten(tree).map((c) => [c.id, c.name]));
    pages.send(res, 200, 'catalog/home', { title: search.form['q'] ? `Search: ${search.form['q']}` : 'Catalog', ...view, currency, tree, categoryNames, search, results, problem });
  });

  router.get('/products/new', requireSignIn, requireAbility('canEdit', 'create products'), async (_req, res) => {
    await sendProductForm(res, 200, { status: 'draft', stock: '0' }, undefined);
  });

  router.post('/products', requireSignIn, requireAbility('canEdit', 'create products'), async (req, res) => {
    const input = productBodyOf(req.body as Record<string, unknown>, currency);
    if (Object.keys(input.fieldErrors).length) {
      await sendProductForm(res, 400, req.body as Record<string, unknown>, undefined, { ...problemViewOf(new AppError('validation')), fieldErrors: input.fieldErrors });
      return;
    }
    try {
      const created = await api.send<Product>('POST', 'products', '/products', input.body);
      res.redirect(303, `/products/${encodeURIComponent(created.body.id)}?saved=1`);
    } catch (error) {
      await sendFormProblem(error, (status, problem) => sendProductForm(res, status, req.body as Record<string, unknown>, undefined, problem));
    }
  });

  router.get('/products/:id', requireSignIn, async (req, res) => {
    const { body: product } = await api.get<Product>('products', `/products/${routeId(req)}`);
    const tree = await categoryTree();
    const categoryNames = Object.fromEntries(flatten(tree).map((c) => [c.id, c.name]));
    pages.send(res, 200, 'catalog/product', { title: product.name, product, categoryNames, saved: req.query['saved'] === '1', ...view });
  });

  router.get('/products/:id/edit', requireSignIn, requireAbility('canEdit', 'edit products'), async (req, res) => {
    const { body: product, etag } = await api.get<Product>('products', `/products/${routeId(req)}`);
    await sendProductForm(res, 200, { ...productFormOf(product, majorUnitsOf), etag }, product);
  });

  router.post('/products/:id', requireSignIn, requireAbility('canEdit', 'edit products'), async (req, res) => {
    const id = routeId(req);
    const form = req.body as Record<string, unknown>;
    const input = productBodyOf(form, currency);
    // Read only to show the form again: a save that succeeds needs no read (a missing product is the PUT's 404).
    const current = async () => (await api.get<Product>('products', `/products/${id}`)).body;
    if (Object.keys(input.fieldErrors).length) {
      await sendProductForm(res, 400, form, await current(), { ...problemViewOf(new AppError('validation')), fieldErrors: input.fieldErrors });
      return;
    }
    try {
      // The version the form was opened at: a change made meanwhile by someone else is a 412, never overwritten.
      const etag = typeof form['etag'] === 'string' ? form['etag'] : '';
      await api.send('PUT', 'products', `/products/${id}`, input.body, { 'if-match': etag });
      res.redirect(303, `/products/${encodeURIComponent(id)}?saved=1`);
    } catch (error) {
      await sendFormProblem(error, async (status, problem) => sendProductForm(res, status, form, await current(), problem));
    }
  });

  router.get('/categories/new', requireSignIn, requireAbility('canEdit', 'create categories'), async (_req, res) => {
    await sendCategoryForm(res, 200, {}, undefined);
  });

  router.post('/categories', requireSignIn, requireAbility('canEdit', 'create categories'), async (req, res) => {
    const form = req.body as Record<string, unknown>;
    try {
      await api.send('POST', 'categories', '/categories', categoryBodyOf(form));
      res.redirect(303, '/?saved=category');
    } catch (error) {
      await sendFormProblem(error, (status, problem) => sendCategoryForm(res, status, form, undefined, problem));
    }
  });

  router.get('/categories/:id/edit', requireSignIn, requireAbility('canEdit', 'edit categories'), async (req, res) => {
    const { body: category, etag } = await api.get<CategoryNode>('categories', `/categories/${routeId(req)}`);
    await sendCategoryForm(res, 200, { name: category.name, slug: category.slug, parentId: category.parentId ?? '', etag }, category);
  });

  router.post('/categories/:id', requireSignIn, requireAbility('canEdit', 'edit categories'), async (req, res) => {
    const id = routeId(req);
    const form = req.body as Record<string, unknown>;
    try {
      const etag = typeof form['etag'] === 'string' ? form['etag'] : '';
      await api.send('PATCH', 'categories', `/categories/${id}`, categoryBodyOf(form), { 'if-match': etag });
      res.redirect(303, `/?category=${encodeURIComponent(id)}&subtree=true`);
    } catch (error) {
      await sendFormProblem(error, async (status, problem) =>
        sendCategoryForm(res, status, form, (await api.get<CategoryNode>('categories', `/categories/${id}`)).body, problem));
    }
  });

  async function sendProductForm(res: Response, status: number, form: Record<string, unknown>, product: Product | undefined, problem?: ReturnType<typeof problemViewOf>) {
    const categories = flatten(await categoryTree());
    const selected = new Set((Array.isArray(form['categoryIds']) ? form['categoryIds'] : [form['categoryIds']]).filter(Boolean));
    pages.send(res, status, 'catalog/product-form', { title: product ? `Edit ${product.name}` : 'New product', form, product, categories, selected, problem, currency });
  }

  async function sendCategoryForm(res: Response, status: number, form: Record<string, unknown>, category: CategoryNode | undefined, problem?: ReturnType<typeof problemViewOf>) {
    const categories = flatten(await categoryTree()).filter((c) => c.id !== category?.id);
    pages.send(res, status, 'catalog/category-form', { title: category ? `Edit ${category.name}` : 'New category', form, category, categories, problem });
  }

  return router;
}

const categoryBodyOf = (form: Record<string, unknown>): Record<string, unknown> => {
  const text = (key: string) => (typeof form[key] === 'string' ? (form[key] as string).trim() : '');
  return { name: text('name'), slug: text('slug'), parentId: text('parentId') || null };
};

/**
 * A form the API refused is shown again with its messages beside the fields (400, 409, 412, 422); anything else
 * (403, 503, …) is the error page.
 */
async function sendFormProblem(error: unknown, again: (status: number, problem: ReturnType<typeof problemViewOf>) => Promise<void>): Promise<void> {
  if (error instanceof AppError && [400, 409, 412, 422].includes(error.status)) {
    await again(error.status, problemViewOf(error));
    return;
  }
  throw error;
}

