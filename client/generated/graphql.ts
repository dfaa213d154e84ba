/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Filters, combined with AND; a list matches any of its values. */
export type ProductFilter = {
  brand?: Array<string> | null | undefined;
  category?: Array<string> | null | undefined;
  colour?: Array<string> | null | undefined;
  /** Case-insensitive words that the title contains. */
  keyword?: string | null | undefined;
  maxPrice?: number | null | undefined;
  minPrice?: number | null | undefined;
};

/** Part of the query image to search with, in fractions of its width and height. */
export type RegionInput = {
  height: number;
  width: number;
  x: number;
  y: number;
};

export type ProductCardFieldsFragment = { id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> };

export type SearchResultFieldsFragment = { id: string, tookMs: number, model: string, reranked: boolean, autoRegion: boolean, region: { x: number, y: number, width: number, height: number } | null, items: Array<{ rank: number, similarity: number, distance: number, score: number | null, image: { id: string, url: string, thumbnailUrl: string, width: number, height: number }, product: { id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> } }> };

export type SimilarProductsQueryVariables = Exact<{
  image?: Blob | null | undefined;
  imageUrl?: string | null | undefined;
  productId?: string | null | undefined;
  region?: RegionInput | null | undefined;
  topK?: number | null | undefined;
  filter?: ProductFilter | null | undefined;
  rerank?: boolean | null | undefined;
  autoRegion?: boolean | null | undefined;
}>;


export type SimilarProductsQuery = { similarProducts: { id: string, tookMs: number, model: string, reranked: boolean, autoRegion: boolean, region: { x: number, y: number, width: number, height: number } | null, items: Array<{ rank: number, similarity: number, distance: number, score: number | null, image: { id: string, url: string, thumbnailUrl: string, width: number, height: number }, product: { id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> } }> } };

export type RerankSearchMutationVariables = Exact<{
  searchId: string;
  candidates?: number | null | undefined;
  topK?: number | null | undefined;
}>;


export type RerankSearchMutation = { rerankSearch: { id: string, tookMs: number, model: string, reranked: boolean, autoRegion: boolean, region: { x: number, y: number, width: number, height: number } | null, items: Array<{ rank: number, similarity: number, distance: number, score: number | null, image: { id: string, url: string, thumbnailUrl: string, width: number, height: number }, product: { id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> } }> } };

export type ProductQueryVariables = Exact<{
  id: string;
}>;


export type ProductQuery = { product: { externalId: string, source: string, description: string | null, attributes: Record<string, unknown>, createdAt: string, updatedAt: string, id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> } | null };

export type ProductsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: ProductFilter | null | undefined;
}>;


export type ProductsQuery = { products: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, title: string, brand: string | null, category: string | null, colour: string | null, price: number | null, currency: string | null, images: Array<{ id: string, url: string, thumbnailUrl: string, width: number, height: number, position: number }> } }> } };

export type FacetValuesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type FacetValuesQuery = { products: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { category: string | null, colour: string | null, brand: string | null } }> } };

export type CatalogStatsQueryVariables = Exact<{ [key: string]: never; }>;


export type CatalogStatsQuery = { catalogStats: { products: number, images: number, embeddings: number, database: string, model: { key: string, name: string, version: string, provider: string, dim: number } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ProductCardFieldsFragmentDoc = new TypedDocumentString(`
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}
    `, {"fragmentName":"ProductCardFields"}) as unknown as TypedDocumentString<ProductCardFieldsFragment, unknown>;
export const SearchResultFieldsFragmentDoc = new TypedDocumentString(`
    fragment SearchResultFields on SearchResult {
  id
  tookMs
  model
  reranked
  region {
    x
    y
    width
    height
  }
  autoRegion
  items {
    rank
    similarity
    distance
    score
    image {
      id
      url
      thumbnailUrl
      width
      height
    }
    product {
      ...ProductCardFields
    }
  }
}
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}`, {"fragmentName":"SearchResultFields"}) as unknown as TypedDocumentString<SearchResultFieldsFragment, unknown>;
export const SimilarProductsDocument = new TypedDocumentString(`
    query SimilarProducts($image: Upload, $imageUrl: String, $productId: ID, $region: RegionInput, $topK: Int = 10, $filter: ProductFilter, $rerank: Boolean = false, $autoRegion: Boolean) {
  similarProducts(
    image: $image
    imageUrl: $imageUrl
    productId: $productId
    region: $region
    topK: $topK
    filter: $filter
    rerank: $rerank
    autoRegion: $autoRegion
  ) {
    ...SearchResultFields
  }
}
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}
fragment SearchResultFields on SearchResult {
  id
  tookMs
  model
  reranked
  region {
    x
    y
    width
    height
  }
  autoRegion
  items {
    rank
    similarity
    distance
    score
    image {
      id
      url
      thumbnailUrl
      width
      height
    }
    product {
      ...ProductCardFields
    }
  }
}`) as unknown as TypedDocumentString<SimilarProductsQuery, SimilarProductsQueryVariables>;
export const RerankSearchDocument = new TypedDocumentString(`
    mutation RerankSearch($searchId: ID!, $candidates: Int, $topK: Int) {
  rerankSearch(searchId: $searchId, candidates: $candidates, topK: $topK) {
    ...SearchResultFields
  }
}
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}
fragment SearchResultFields on SearchResult {
  id
  tookMs
  model
  reranked
  region {
    x
    y
    width
    height
  }
  autoRegion
  items {
    rank
    similarity
    distance
    score
    image {
      id
      url
      thumbnailUrl
      width
      height
    }
    product {
      ...ProductCardFields
    }
  }
}`) as unknown as TypedDocumentString<RerankSearchMutation, RerankSearchMutationVariables>;
export const ProductDocument = new TypedDocumentString(`
    query Product($id: ID!) {
  product(id: $id) {
    ...ProductCardFields
    externalId
    source
    description
    attributes
    createdAt
    updatedAt
  }
}
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}`) as unknown as TypedDocumentString<ProductQuery, ProductQueryVariables>;
export const ProductsDocument = new TypedDocumentString(`
    query Products($first: Int = 20, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        ...ProductCardFields
      }
    }
  }
}
    fragment ProductCardFields on Product {
  id
  title
  brand
  category
  colour
  price
  currency
  images {
    id
    url
    thumbnailUrl
    width
    height
    position
  }
}`) as unknown as TypedDocumentString<ProductsQuery, ProductsQueryVariables>;
export const FacetValuesDocument = new TypedDocumentString(`
    query FacetValues($first: Int = 100, $after: String) {
  products(first: $first, after: $after) {
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        category
        colour
        brand
      }
    }
  }
}
    `) as unknown as TypedDocumentString<FacetValuesQuery, FacetValuesQueryVariables>;
export const CatalogStatsDocument = new TypedDocumentString(`
    query CatalogStats {
  catalogStats {
    products
    images
    embeddings
    database
    model {
      key
      name
      version
      provider
      dim
    }
  }
}
    `) as unknown as TypedDocumentString<CatalogStatsQuery, CatalogStatsQueryVariables>;