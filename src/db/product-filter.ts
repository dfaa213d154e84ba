// ProductFilter as SQL conditions over `products p`: the one implementation behind both the
// vector search and the catalog listing, so both read a filter the same way.
import { Prisma } from '../../generated/prisma/client.js';
import type { ProductFilter } from './types.js';

/** The filter's conditions (none for an empty filter); combine them with AND. */
export function productFilterSql(f: ProductFilter | undefined): Prisma.Sql[] {
  const conds: Prisma.Sql[] = [];
  for (const bound of [f?.minPrice, f?.maxPrice]) {
    if (bound != null && !Number.isFinite(bound)) throw new RangeError(`price bounds must be finite numbers, got ${bound}`);
  }
  if (f?.category?.length) conds.push(Prisma.sql`p.category = ANY(${f.category}::text[])`);
  if (f?.colour?.length) conds.push(Prisma.sql`p.colour = ANY(${f.colour}::text[])`);
  if (f?.brand?.length) conds.push(Prisma.sql`p.brand = ANY(${f.brand}::text[])`);
  if (f?.minPrice != null) conds.push(Prisma.sql`p.price >= ${String(f.minPrice)}::numeric`);
  if (f?.maxPrice != null) conds.push(Prisma.sql`p.price <= ${String(f.maxPrice)}::numeric`);
  const keyword = f?.keyword?.trim();
  // % and _ are taken literally: the keyword is a substring, not a pattern.
  if (keyword) conds.push(Prisma.sql`p.title ILIKE ${'%' + keyword.replace(/[\\%_]/g, (c) => '\\' + c) + '%'}`);
  return conds;
}

/** `WHERE …` of the conditions, or nothing. */
export function whereSql(conds: Prisma.Sql[]): Prisma.Sql {
  return conds.length ? Prisma.sql`WHERE ${Prisma.join(conds, ' AND ')}` : Prisma.empty;
}
