import { minorUnitsOf } from './catalog-search';

/**
 * The product form's fields as the products API's body. What the form can already tell (a price that is no amount,
 * an attribute line without "=") is reported by field; everything else is the API's to judge, and its messages are
 * shown beside the same fields.
 */
export interface ProductFormInput {
  body: Record<string, unknown>;
  fieldErrors: Record<string, string>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '');
const list = (value: unknown): string[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(text).filter(Boolean);

export function productBodyOf(form: Record<string, unknown>, currency: string): ProductFormInput {
  const fieldErrors: Record<string, string> = {};
  const body: Record<string, unknown> = {
    sku: text(form['sku']),
    name: text(form['name']),
    description: text(form['description']),
    categoryIds: list(form['categoryIds']),
    status: text(form['status']) || 'draft',
    tags: text(form['tags']).split(',').map((tag) => tag.trim()).filter(Boolean),
  };
  const price = minorUnitsOf(text(form['price']));
  if (price === undefined) fieldErrors['price.amount'] = 'Enter a price such as 25 or 12.50';
  else body['price'] = { amount: price, currency };
  const stock = text(form['stock']);
  if (stock === '') body['stock'] = 0;
  else if (/^\d{1,10}$/.test(stock)) body['stock'] = Number(stock);
  else fieldErrors['stock'] = 'Enter a whole number';
  const attributes: Record<string, string | number | boolean> = {};
  for (const line of text(form['attributes']).split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) {
      fieldErrors['attributes'] = `"${line.slice(0, 40)}": write each attribute as name=value`;
      continue;
    }
    const value = line.slice(at + 1).trim();
    attributes[line.slice(0, at).trim()] = value === 'true' ? true : value === 'false' ? false : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  body['attributes'] = attributes;
  return { body, fieldErrors };
}

/** A stored product as the form shows it. */
export function productFormOf(product: {
  sku: string; name: string; description: string; categoryIds: string[]; price: { amount: number }; stock: number; status: string;
  tags: string[]; attributes: Record<string, unknown>;
}, majorUnits: (minor: number) => string): Record<string, unknown> {
  return {
    sku: product.sku,
    name: product.name,
    description: product.description,
    categoryIds: product.categoryIds,
    price: majorUnits(product.price.amount),
    stock: String(product.stock),
    status: product.status,
    tags: product.tags.join(', '),
    attributes: Object.entries(product.attributes).map(([name, value]) => `${name}=${String(value)}`).join('\n'),
  };
}
