// graphql-codegen: typed documents for the web page and client/ from the committed schema.graphql.
// `npm run codegen` writes client/generated/; `npm run codegen -- --check` fails when it is stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['client/operations.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // "type": "module": import specifiers with .js extensions.
        emitLegacyCommonJSImports: false,
        // Documents as typed strings: no graphql-js (parser) in the browser bundle.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: {
          Upload: { input: 'Blob', output: 'never' },
          DateTimeISO: { input: 'string', output: 'string' },
          JSONObject: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
          ID: { input: 'string', output: 'string' },
        },
      },
    },
  },
};

export default config;
