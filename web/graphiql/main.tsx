// GraphiQL 5 for the API, bundled by Vite (no CDN): Monaco's workers come from the
// setup-workers/vite entry, and the page talks to the same server's /graphql.
import 'graphiql/setup-workers/vite';
// graphiql/style.css would add Monaco's CSS a second time and 360 kB of inlined fonts: take the parts.
import '@graphiql/react/style.css';
import '@graphiql/plugin-doc-explorer/style.css';
import '@graphiql/plugin-history/style.css';
import 'graphiql/graphiql.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';

// Apollo's CSRF prevention: requests must carry this header (JSON POSTs pass anyway; keep it explicit).
const PREFLIGHT = { 'apollo-require-preflight': 'true' };

const fetcher = createGraphiQLFetcher({ url: new URL('/graphql', location.href).toString(), headers: PREFLIGHT });

function exampleTabs(productId: string) {
  return [
    {
      query: `# The catalog and the model behind the search.
# Press the run button (or Ctrl-Enter).
query CatalogStats {
  catalogStats {
    products
    images
    embeddings
    database
    model { key provider dim }
    index { type m efSearch }
  }
}
`,
    },
    {
      query: `# "More like this": products that look like a catalog product, filtered.
query MoreLikeThis($productId: ID!, $filter: ProductFilter) {
  similarProducts(productId: $productId, topK: 5, filter: $filter) {
    id
    tookMs
    model
    items { rank similarity product { title colour price currency } image { thumbnailUrl } }
  }
}
`,
      variables: JSON.stringify({ productId, filter: { maxPrice: 30 } }, null, 2),
    },
    {
      query: `# Search by the address of a photo, searching only its top half, re-ranked by the
# pairwise scorer. (Uploads need a multipart request: see README.md or client/index.ts.)
query ByImageUrl($url: String!) {
  similarProducts(imageUrl: $url, region: { x: 0, y: 0, width: 1, height: 0.5 }, topK: 5, rerank: true) {
    id
    tookMs
    reranked
    items { rank similarity score product { title } }
  }
}
`,
      variables: JSON.stringify({ url: new URL('/media/…', location.href).toString() }, null, 2),
    },
    {
      query: `# Browse the catalog page by page: pass pageInfo.endCursor as $after.
query Browse($after: String) {
  products(first: 10, after: $after, filter: { keyword: "striped" }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title brand colour price images { url } } }
  }
}
`,
    },
    {
      query: `# Re-rank an earlier search (paste its id) with the slower pairwise scorer.
mutation Rerank($searchId: ID!) {
  rerankSearch(searchId: $searchId, topK: 5) {
    tookMs
    reranked
    items { rank score similarity product { title } }
  }
}
`,
      variables: JSON.stringify({ searchId: 'paste the id of a similarProducts result' }, null, 2),
    },
  ];
}

/** A real product id and a real media address, so the examples run as they are. */
async function sample(): Promise<{ productId: string; imageUrl?: string }> {
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...PREFLIGHT },
      body: JSON.stringify({ query: '{ products(first: 1) { edges { node { id images { url } } } } }' }),
    });
    const node = (await response.json()).data?.products?.edges?.[0]?.node;
    if (node) return { productId: node.id, imageUrl: node.images?.[0]?.url };
  } catch {
    // The examples still load; the variables just need a real id.
  }
  return { productId: 'a product id' };
}

const { productId, imageUrl } = await sample();
const tabs = exampleTabs(productId);
if (imageUrl) tabs[2]!.variables = JSON.stringify({ url: new URL(imageUrl, location.href).toString() }, null, 2);

const container = document.getElementById('graphiql')!;
container.textContent = '';
createRoot(container).render(
  <GraphiQL fetcher={fetcher} defaultTabs={tabs} defaultHeaders={JSON.stringify(PREFLIGHT, null, 2)} shouldPersistHeaders={false}>
    <GraphiQL.Logo>
      <a href="/" style={{ color: 'inherit', textDecoration: 'none' }}>
        Visual product search
      </a>
    </GraphiQL.Logo>
  </GraphiQL>,
);
