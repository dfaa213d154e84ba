// A plain GraphQL-over-HTTP client for tests, with the multipart request spec for uploads.

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

export interface UploadFile {
  /** Variable path, e.g. 'image' for $image. */
  variable: string;
  bytes: Buffer;
  filename?: string;
  type?: string;
}

export async function graphql<T = any>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  opts: { files?: UploadFile[]; headers?: Record<string, string> } = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'apollo-require-preflight': 'true', ...opts.headers };
  let body: BodyInit;
  if (opts.files?.length) {
    const form = new FormData();
    const vars = { ...variables };
    const map: Record<string, string[]> = {};
    opts.files.forEach((f, i) => {
      vars[f.variable] = null;
      map[String(i)] = [`variables.${f.variable}`];
    });
    form.append('operations', JSON.stringify({ query, variables: vars }));
    form.append('map', JSON.stringify(map));
    opts.files.forEach((f, i) =>
      form.append(String(i), new Blob([new Uint8Array(f.bytes)], { type: f.type ?? 'application/octet-stream' }), f.filename ?? `file${i}`),
    );
    body = form;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query, variables });
  }
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response (${response.status}): ${text.slice(0, 300)}`);
  }
  return { status: response.status, data: json.data, errors: json.errors };
}

/** The error code of the first error, or undefined. */
export const errorCode = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code;
