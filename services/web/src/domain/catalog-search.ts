/**
 * The catalog page's search: the form's fields as the products API's query, and links that change one filter while
 * keeping the others (facet counts, paging). Prices are typed in major units ("12.50") and sent in minor units.
 */
export interface CatalogSearch {
  /** What goes to `GET /products`. */
  apiQuery: Record<string, string>;
  /** What the form shows back, as typed. */
  form: Record<string, string>;
  /** Form fields that could not be read, by field name. */
  fieldErrors: Record<string, string>;
}

const passedThrough = ['q', 'category', 'subtree', 'in_stock', 'sort', 'order', 'cursor', 'tags'] as const;
const priceFields = ['price_min', 'price_max'] as const;

export function catalogSearchOf(query: Record<string, unknown>): CatalogSearch {
  const apiQuery: Record<string, string> = {};
  const form: Record<string, string> = {};
  const fieldErrors: Record<string, string> = {};
  const text = (key: string): string | undefined => {
    const value = query[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  for (const key of passedThrough) {
    const value = text(key);
    if (value !== undefined) {
      apiQuery[key] = value;
      form[key] = value;
    }
  }
  for (const key of priceFields) {
    const value = text(key);
    if (value === undefined) continue;
    form[key] = value;
    const minor = minorUnitsOf(value);
    if (minor === undefined) fieldErrors[key] = 'Enter an amount such as 25 or 12.50';
    else apiQuery[key] = String(minor);
  }
  for (const [key, value] of Object.entries(query)) {
    if (/^attr\.[A-Za-z0-9_-]{1,40}$/.test(key) && typeof value === 'string' && value !== '') {
      apiQuery[key] = value;
      form[key] = value;
    }
  }
  // A subtree without a category means nothing; the category's own link sets both.
  if (apiQuery['subtree'] && !apiQuery['category']) delete apiQuery['subtree'];
  return { apiQuery, form, fieldErrors };
}

/** "12.5" → 1250; undefined when it is not an amount with at most two decimals. */
export function minorUnitsOf(text: string): number | undefined {
  const match = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** 1250 → "12.50": what an edit form shows for a stored price. */
export const majorUnitsOf = (minor: number): string => `${Math.trunc(minor / 100)}.${String(Math.abs(minor % 100)).padStart(2, '0')}`;

/** The home page's URL with some fields changed (undefined removes one); a new filter starts again at the first page. */
export function searchLink(form: Record<string, string>, changes: Record<string, string | undefined>): string {
  const next: Record<string, string> = { ...form };
  delete next['cursor'];
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  const search = new URLSearchParams(next).toString();
  return search ? `/?${search}` : '/';
}

export function formatMoney(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 100);
  } catch {
    return `${majorUnitsOf(amount)} ${currency}`;
  }
}
