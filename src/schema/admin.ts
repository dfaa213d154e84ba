import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PRODUCT_FIELD_NAMES, PRODUCT_FIELDS, type ProductFieldName, type ProductFieldsInput } from '../db/product-fields.js';
import { Product } from './product.js';

const GRAPHQL_TYPES = { text: () => String, price: () => Float, currency: () => String, attributes: () => GraphQLJSONObject } as const;

/** Declares the product's fields (src/db/product-fields.ts) on an input class, each nullable. */
function productFields(target: { prototype: object }, options: { skip?: ProductFieldName[]; descriptions?: Partial<Record<ProductFieldName, string>> }) {
  for (const name of PRODUCT_FIELD_NAMES) {
    if (options.skip?.includes(name)) continue;
    Field(GRAPHQL_TYPES[PRODUCT_FIELDS[name].kind], { nullable: true, description: options.descriptions?.[name] })(target.prototype, name);
  }
}

@InputType({ description: 'A new product. Omitted fields stay empty.' })
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface below types the fields productFields() adds
export class ProductInput {
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true, description: 'The store’s id (SKU); default: a new UUID.' }) externalId?: string | null;
  @Field(() => String, { nullable: true, description: 'Default "manual".' }) source?: string | null;
}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- the product's fields, as productFields() declares them
export interface ProductInput extends Omit<ProductFieldsInput, 'title'> {}
productFields(ProductInput, { skip: ['title'], descriptions: { currency: 'ISO 4217 code.' } });

@InputType({ description: 'Fields to change: an omitted field is kept, null clears it (title cannot be cleared).' })
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- as for ProductInput
export class ProductUpdateInput {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- as for ProductInput
export interface ProductUpdateInput extends ProductFieldsInput {}
productFields(ProductUpdateInput, {});

export enum ImageDecisionKind {
  NEW = 'new',
  UNCHANGED = 'unchanged',
  EXACT_DUPLICATE = 'exact_duplicate',
  NEAR_DUPLICATE = 'near_duplicate',
}
registerEnumType(ImageDecisionKind, {
  name: 'ImageDecisionKind',
  description:
    'NEW: stored. UNCHANGED: the product already had these bytes. EXACT_DUPLICATE: the same bytes belong to another product (not stored). NEAR_DUPLICATE: looks like a catalog image (linked to it, or not stored when near-duplicates are skipped).',
});

@ObjectType({ description: 'What became of one uploaded image.' })
export class ImageDecision {
  @Field(() => String) sha256!: string;
  @Field(() => ImageDecisionKind) decision!: ImageDecisionKind;
  @Field(() => ID, { nullable: true, description: 'The stored image, if it was stored.' }) imageId!: string | null;
  @Field(() => ID, { nullable: true, description: 'Product of the image it duplicates.' }) duplicateOfProductId!: string | null;
  @Field(() => ID, { nullable: true }) duplicateOfImageId!: string | null;
  @Field(() => Float, { nullable: true, description: 'Embedding distance to that image (near-duplicates).' }) distance!: number | null;
}

@ObjectType()
export class ProductWriteResult {
  @Field(() => Product) product!: Product;
  @Field(() => [ImageDecision], { description: 'One per uploaded image, in upload order.' }) images!: ImageDecision[];
}

export enum IngestSourceKind {
  API = 'api',
  FOLDER = 'folder',
  MANIFEST = 'manifest',
}
registerEnumType(IngestSourceKind, { name: 'IngestSourceKind' });

export enum NearDuplicateAction {
  LINK = 'link',
  SKIP = 'skip',
}
registerEnumType(NearDuplicateAction, {
  name: 'NearDuplicateAction',
  description: 'LINK: store near-duplicates and link them to the image they resemble. SKIP: keep only the first.',
});

@InputType({ description: 'A catalog source, as `npm run ingest` takes it. Paths are on the server.' })
export class IngestSourceInput {
  @Field(() => IngestSourceKind) kind!: IngestSourceKind;
  @Field(() => String, { nullable: true, description: 'API: the listing URL (page parameters are added).' }) url?: string;
  @Field(() => String, { nullable: true, description: 'FOLDER: the image folder; MANIFEST: the CSV / JSON(L) file.' }) path?: string;
  @Field(() => String, { nullable: true, description: 'FOLDER: a CSV / JSON(L) sidecar with product data.' }) meta?: string;
  @Field(() => String, { nullable: true, description: 'Field mapping, e.g. "id=styleid,title=product,image=search_image".' })
  map?: string;
  @Field(() => String, { nullable: true, description: 'Path to the records inside a JSON document, e.g. "data.results.products".' })
  itemsPath?: string;
  @Field(() => String, { nullable: true, description: 'Product source name; default: the host or file name.' }) sourceName?: string;
  @Field(() => String, { nullable: true, description: 'API: page number parameter (default "p").' }) pageParam?: string;
  @Field(() => String, { nullable: true, description: 'API: page size parameter (default "rows").' }) sizeParam?: string;
  @Field(() => Int, { nullable: true }) pageSize?: number;
  @Field(() => Int, { nullable: true, description: 'API: first page number (default 1).' }) startPage?: number;
  @Field(() => Int, { nullable: true }) maxPages?: number;
  @Field(() => Boolean, { defaultValue: false, description: 'Delete this source’s products that the source no longer lists.' })
  prune!: boolean;
  @Field(() => NearDuplicateAction, { nullable: true }) nearDuplicates?: NearDuplicateAction;
}

export enum IngestStatus {
  RUNNING = 'running',
  COMPLETED = 'completed',
  FAILED = 'failed',
  INTERRUPTED = 'interrupted',
}
registerEnumType(IngestStatus, {
  name: 'IngestStatus',
  description: 'FAILED and INTERRUPTED runs resume where they stopped when started again with the same source.',
});

@ObjectType()
export class IngestCounts {
  @Field(() => Int, { description: 'Products added.' }) created!: number;
  @Field(() => Int) updated!: number;
  @Field(() => Int) unchanged!: number;
  @Field(() => Int, { description: 'Items skipped with a recorded reason.' }) failed!: number;
  @Field(() => Int) newImages!: number;
  @Field(() => Int) unchangedImages!: number;
  @Field(() => Int) exactDuplicates!: number;
  @Field(() => Int) nearDuplicates!: number;
  @Field(() => Int) failedImages!: number;
  @Field(() => Int) pruned!: number;
}

@ObjectType()
export class IngestFailure {
  @Field(() => String, { nullable: true }) itemKey!: string | null;
  @Field(() => String, { nullable: true, description: 'URL or path of the image concerned.' }) image!: string | null;
  @Field(() => String, { description: 'IMAGE_FETCH_FAILED, BAD_IMAGE, UNSUPPORTED_IMAGE_TYPE, IMAGE_TOO_LARGE, MISSING_FIELD, BAD_FIELD, NO_IMAGES, BAD_RECORD, WRITE_FAILED.' })
  code!: string;
  @Field(() => String) reason!: string;
}

@ObjectType({ description: 'An ingest run; poll it for progress.' })
export class IngestJob {
  @Field(() => ID) id!: string;
  @Field(() => IngestSourceKind) kind!: string;
  @Field(() => String) source!: string;
  @Field(() => IngestStatus) status!: string;
  @Field(() => Int) pagesDone!: number;
  @Field(() => Int) itemsDone!: number;
  @Field(() => Int, { nullable: true, description: 'Known for folders and manifests.' }) itemsTotal!: number | null;
  @Field(() => IngestCounts) counts!: IngestCounts;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => [IngestFailure], { description: 'The first 100 failures.' }) failures!: IngestFailure[];
  @Field(() => Date) startedAt!: Date;
  @Field(() => Date) updatedAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
}
