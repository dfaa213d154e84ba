// The web page (index.html: search, catalog, product pages) and GraphiQL (graphiql/index.html),
// built into web/dist and served by the API server (src/http/app.ts). `npm run dev:web` serves
// them with hot reload and proxies the API to a service running on :4000.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const api = process.env.API_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: here('.'),
  base: '/',
  // React's automatic JSX runtime through Vite's esbuild (no Babel plugin needed).
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    // GraphiQL's Monaco editor is large by nature; it is loaded only on /graphiql.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { main: here('./index.html'), graphiql: here('./graphiql/index.html') },
      onwarn(warning, warn) {
        // GraphiQL's dependencies carry "use client" directives (for React Server Components): harmless here.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  worker: { format: 'es' },
  server: {
    proxy: { '/graphql': api, '/media': api, '/healthz': api },
  },
});
