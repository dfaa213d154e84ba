/** `/` when the web page is not built (no web/dist): how to search, in one screen. */
export function rootPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Visual product search</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem">
<h1>Visual product search</h1>
<p>The GraphQL API is at <code>/graphql</code>. Search with a photo:</p>
<pre>curl http://localhost:4000/graphql -H 'apollo-require-preflight: true' \\
  -F operations='{"query":"query($f: Upload){ similarProducts(image: $f, topK: 5){ items { rank similarity product { title price } } } }","variables":{"f":null}}' \\
  -F map='{"0":["variables.f"]}' -F 0=@photo.jpg</pre>
<p>Or by URL: <code>{ similarProducts(imageUrl: "https://…/photo.jpg") { items { product { title } } } }</code></p>
</body></html>`;
}
