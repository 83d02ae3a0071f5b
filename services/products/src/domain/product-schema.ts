import { freeText, noControlCharacters, pageSchema } from '@mercato/platform';
import { z } from 'zod';

export const productStatuses = ['draft', 'active', 'archived'] as const;
export type ProductStatus = (typeof productStatuses)[number];

const productId = z.uuid('must be a product id (UUID)');
const categoryId = z.uuid('must be a category id (UUID)');

/** Stock-keeping unit: letters, digits and `-_.`; stored upper-case, so `ab-1` and `AB-1` are one SKU. */
export const skuSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit')
  .toUpperCase();

/** Attribute names are identifiers, so `attr.<name>` in a query can name them unambiguously. */
export const attributeNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and "_", starting with a letter');

const attributeValue = z.union([
  z.string().max(200).regex(noControlCharacters, 'must not contain control characters').regex(/^[^,]*$/, 'must not contain ","'),
  z.number().finite(),
  z.boolean(),
]);

export const tagSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lower-case letters, digits and single hyphens');

/** ISO 4217 alphabetic code. Whether it is the catalog's currency is a business rule (422), not a format (400). */
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code in capitals, e.g. "USD"');

export const priceSchema = z.strictObject({
  amount: z.number().int('must be whole minor units (cents)').min(0).max(1_000_000_000_00),
  currency: currencySchema,
});

const productFields = {
  sku: skuSchema,
  name: freeText(200, { blank: false }),
  description: freeText(5000, { blank: true }),
  categoryIds: z
    .array(categoryId)
    .min(1, 'name at least one category')
    .max(10)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a category')
    .meta({ uniqueItems: true }),
  price: priceSchema,
  attributes: z
    .record(attributeNameSchema, attributeValue)
    .refine((attributes) => Object.keys(attributes).length <= 30, 'at most 30 attributes')
    .meta({ maxProperties: 30 }),
  tags: z
    .array(tagSchema)
    .max(30)
    .refine((tags) => new Set(tags).size === tags.length, 'must not repeat a tag')
    .meta({ uniqueItems: true }),
  stock: z.number().int().min(0).max(1_000_000_000),
  status: z.enum(productStatuses),
};

export const newProductSchema = z.strictObject({
  ...productFields,
  description: productFields.description.default(''),
  attributes: productFields.attributes.default({}),
  tags: productFields.tags.default([]),
  stock: productFields.stock.default(0),
  status: productFields.status.default('draft'),
});
export type NewProduct = z.output<typeof newProductSchema>;

/** PUT replaces every field but the SKU's identity rules: the same shape as a create. */
export const productReplacementSchema = newProductSchema;
export type ProductReplacement = z.output<typeof productReplacementSchema>;

const changeableFields = Object.keys(productFields);
export const productChangesSchema = z
  .strictObject({
    sku: productFields.sku.optional(),
    name: productFields.name.optional(),
    description: productFields.description.optional(),
    categoryIds: productFields.categoryIds.optional(),
    price: productFields.price.optional(),
    attributes: productFields.attributes.optional(),
    tags: productFields.tags.optional(),
    stock: productFields.stock.optional(),
    status: productFields.status.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, `send at least one of the fields ${changeableFields.join(', ')}`)
  .meta({ minProperties: 1 });
export type ProductChanges = z.output<typeof productChangesSchema>;

/** A path names a product by its id or by its SKU (any case). */
export const productRefSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a product id or SKU');
export const productPathSchema = z.strictObject({
  id: productRefSchema.meta({ description: 'The product id or its SKU (any case)' }),
});

export const attributeValueSchema = attributeValue;
export type AttributeValue = z.output<typeof attributeValue>;

export const productSchema = z.object({
  id: productId,
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  categoryIds: z.array(categoryId),
  price: z.object({ amount: z.number().int(), currency: z.string() }),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  tags: z.array(z.string()),
  stock: z.number().int(),
  status: z.enum(productStatuses),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int().min(1).describe('Bumped by every change; the ETag is this number in quotes'),
});
export type Product = z.output<typeof productSchema>;

export const productPageSchema = pageSchema(productSchema);
