// End to end: the real service (embedded database, demo catalog, shipped models) serving the
// built web page and GraphiQL, driven in Debian's Chromium by playwright-core; and the typed
// client (client/index.ts) from Node against the same service. Screenshots go to test-artifacts/.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient } from '../client/index.js';
import { demoProducts, type DemoProduct } from '../src/demo/demo-catalog.js';
import { rasterizeSvg } from '../src/images/index.js';
import { distort, onTexturedBackground } from './support/images.js';
import { startTestService, type TestService } from './support/service.js';
import { needsSystem } from './support/system.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = path.resolve('test-artifacts');
const WEB_DIST = path.resolve('web/dist');
const hasChromium = needsSystem('Chromium', existsSync(CHROMIUM), 'apt-get install chromium (or set CHROMIUM_PATH)');

/** Newest modification time among the files under the given paths. */
function newest(paths: string[]): number {
  let latest = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const entry of readdirSync(p)) if (entry !== 'dist' && entry !== 'node_modules') visit(path.join(p, entry));
    } else latest = Math.max(latest, s.mtimeMs);
  };
  paths.forEach(visit);
  return latest;
}

/** Builds web/dist with Vite unless it is newer than every source of the page. */
async function ensureWebBuild(): Promise<void> {
  const built = existsSync(path.join(WEB_DIST, 'index.html')) ? statSync(path.join(WEB_DIST, 'index.html')).mtimeMs : 0;
  if (built && built >= newest(['web', 'client'])) return;
  await promisify(execFile)('npx', ['vite', 'build', 'web', '--logLevel', 'warn'], { timeout: 540_000, maxBuffer: 16 << 20 });
}

/** A shopper's photo of a demo product: its rendered SVG, slightly cropped, rotated, re-encoded. */
async function shopperPhoto(item: DemoProduct, seed: number): Promise<Buffer> {
  return distort(await rasterizeSvg(item.svg, 400), { seed, crop: 0.05, degrees: 3, brightness: 1.05, quality: 82 });
}

let service: TestService;
let target: DemoProduct;
let photo: Buffer;

beforeAll(async () => {
  await ensureWebBuild();
  service = await startTestService({ name: 'embedded' });
  const products = demoProducts();
  target = products.find((p) => p.product.title === 'Green striped T-shirt') ?? products[36]!;
  photo = await shopperPhoto(target, 7);
  await mkdir(ARTIFACTS, { recursive: true });
}, 600_000);

afterAll(async () => {
  await service?.stop();
});

describe('typed client from Node', () => {
  const api = () => createClient({ url: `${service.url}/graphql` });

  it('finds a demo product from an uploaded photo (Buffer) and re-ranks the search', async () => {
    const result = await api().similarProducts({ image: photo, filename: 'photo.jpg', topK: 5 });
    expect(result.items[0]!.product.title).toBe(target.product.title);
    expect(result.model).toMatch(/@/);
    const reranked = await api().rerankSearch(result.id, { topK: 5 });
    expect(reranked.reranked).toBe(true);
    expect(reranked.items.every((i) => typeof i.score === 'number')).toBe(true);
  });

  it('surfaces the server error code for a file that is not an image', async () => {
    const error = await api()
      .similarProducts({ image: Buffer.from('just some text, not a picture'), filename: 'notes.txt' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('UNSUPPORTED_IMAGE_TYPE');
  });

  it('pages through the catalog with filters and reads one product', async () => {
    const first = await api().products({ first: 10, filter: { colour: ['Red'] } });
    expect(first.totalCount).toBe(24);
    expect(first.edges.every((e) => e.node.colour === 'Red')).toBe(true);
    const second = await api().products({ first: 10, after: first.pageInfo.endCursor, filter: { colour: ['Red'] } });
    expect(second.edges[0]!.node.id).not.toBe(first.edges[0]!.node.id);
    const product = await api().product(first.edges[0]!.node.id);
    expect(product?.images.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasChromium)('web page in Chromium', () => {
  let browser: Browser;
  let desktop: BrowserContext;
  const pageErrors: string[] = [];

  const open = async (context: BrowserContext, address: string): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${address}: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`${address}: console: ${msg.text()}`);
    });
    await page.goto(`${service.url}${address}`);
    return page;
  };

  const cards = (page: Page) => page.getByTestId('results').locator('li.card');
  const firstTitle = (page: Page) => cards(page).first().locator('.card-title').innerText();
  const shot = async (page: Page, name: string) => {
    // Photos that are not lazy (the first rows) have arrived before the picture is taken.
    await page.waitForFunction(() => Array.from(document.images).filter((i) => i.loading !== 'lazy').every((i) => i.complete), null, { timeout: 15_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  };

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('searches by an uploaded photo, filters, crops, "more like this" and re-ranks', async () => {
    const page = await open(desktop, '/');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Search by photo');

    // Upload a shopper's photo of a demo product: that product comes first.
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'shopper-photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await expect.poll(() => firstTitle(page), { timeout: 30_000 }).toBe(target.product.title);
    const status = page.getByTestId('status');
    await expect.poll(() => status.innerText()).toMatch(/products? in [\d.]+ ms.*Model \S+@\S+/);
    expect(await cards(page).count()).toBe(12);
    await expect.poll(() => page.getByRole('img', { name: /Your photo shopper-photo\.jpg/ }).isVisible()).toBe(true);
    await shot(page, 'search-results-desktop.png');

    // A filter: only tank tops.
    await page.getByLabel('Category').selectOption('Tank tops');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(async () => (await cards(page).locator('.facts').allInnerTexts()).every((t) => t.startsWith('Tank tops'))).toBe(true);
    expect(await cards(page).count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: /Clear 1 filter/ }).click();

    // The crop box, by keyboard: the first arrow press makes an 80 % box and moves it.
    await page.getByRole('group', { name: /Search area/ }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowUp');
    await expect.poll(() => page.getByRole('group', { name: /Search area/ }).getAttribute('aria-label')).toMatch(/of the photo, from/);
    // Escape returns to the whole photo; then, with the mouse, drag a box over the upper half.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('group', { name: /Search area/ }).getAttribute('aria-label')).toBe('Search area: the whole photo');
    const frame = await page.locator('.crop-frame').boundingBox();
    await page.mouse.move(frame!.x + frame!.width * 0.1, frame!.y + frame!.height * 0.05);
    await page.mouse.down();
    await page.mouse.move(frame!.x + frame!.width * 0.5, frame!.y + frame!.height * 0.3, { steps: 4 });
    await page.mouse.move(frame!.x + frame!.width * 0.9, frame!.y + frame!.height * 0.55, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => page.getByRole('group', { name: /Search area/ }).getAttribute('aria-label')).toMatch(/: 80% × 50% of the photo, from 10% left and 5% top/);
    await page.getByRole('button', { name: 'Search this area' }).click();
    await expect.poll(() => status.innerText()).toMatch(/searching 80% × 50% of the photo/);
    await shot(page, 'search-crop-desktop.png');

    // "More like this" on the first result: a productId search for that product.
    const chosen = await firstTitle(page);
    await cards(page).first().getByRole('button', { name: /More like this/ }).click();
    await expect.poll(() => page.locator('.product-query figcaption').innerText()).toContain(chosen);
    await expect.poll(() => status.innerText()).toMatch(/like a catalog product/);
    expect(await cards(page).count()).toBeGreaterThan(0);

    // Re-rank: the pairwise model's order, its time, and where each product was.
    await page.getByRole('button', { name: 'Re-rank' }).click();
    await expect.poll(() => status.innerText(), { timeout: 30_000 }).toMatch(/Re-ranked \d+ products? with the pairwise model in [\d.]+ ms/);
    expect(await cards(page).first().locator('.score').innerText()).toMatch(/Match [\d.]+%/);
    expect(await cards(page).locator('.moved').count()).toBe(await cards(page).count());
    await shot(page, 'search-reranked-desktop.png');

    // An error: a text file instead of a photo, in a plain sentence.
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.innerText(), { timeout: 30_000 }).toMatch(/not a photo this service can read/);
    await shot(page, 'search-error-desktop.png');

    // By the address of an image: a catalog photo served by the service itself comes back first.
    const listed = (await createClient({ url: `${service.url}/graphql` }).products({ first: 1 })).edges[0]!.node;
    await page.getByLabel('…or the address of an image').fill(new URL(listed.images[0]!.url, service.url).toString());
    await page.getByRole('button', { name: 'Search by this address' }).click();
    await expect.poll(() => firstTitle(page), { timeout: 30_000 }).toBe(listed.title);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('takes the photo from the clipboard (paste) and by drag and drop', async () => {
    const page = await open(desktop, '/');
    const send = (kind: 'paste' | 'drop', name: string) =>
      page.evaluate(
        ({ kind, name, b64 }) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const data = new DataTransfer();
          data.items.add(new File([bytes], name, { type: 'image/jpeg' }));
          if (kind === 'paste') document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
          else document.querySelector('[data-testid=dropzone]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        },
        { kind, name, b64: photo.toString('base64') },
      );
    await send('paste', 'pasted.jpg');
    await expect.poll(() => page.getByRole('img', { name: 'Your photo pasted.jpg' }).count()).toBe(1);
    await expect.poll(() => firstTitle(page), { timeout: 30_000 }).toBe(target.product.title);
    await send('drop', 'dropped.jpg');
    await expect.poll(() => page.getByRole('img', { name: 'Your photo dropped.jpg' }).count()).toBe(1);
    await expect.poll(() => page.getByTestId('status').innerText(), { timeout: 30_000 }).toMatch(/products? in/);
    expect(await firstTitle(page)).toBe(target.product.title);
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('works on a phone-sized screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await open(phone, '/');
    await page.getByLabel('Choose a photo').setInputFiles({ name: 'phone-photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await expect.poll(() => firstTitle(page), { timeout: 30_000 }).toBe(target.product.title);
    // No sideways scrolling; results two to a row.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const [a, b] = await cards(page).evaluateAll((els) => els.slice(0, 2).map((e) => e.getBoundingClientRect().top));
    expect(a).toBe(b);
    await shot(page, 'search-results-phone.png');
    await phone.close();
    expect(pageErrors).toEqual([]);
  });

  it('browses the catalog with pagination and filters, and opens a product', async () => {
    const page = await open(desktop, '/catalog');
    const status = page.getByRole('status');
    await expect.poll(() => status.innerText()).toBe(`Products 1–24 of ${demoProducts().length}.`);
    await page.getByRole('button', { name: /Next page/ }).click();
    await expect.poll(() => status.innerText()).toBe(`Products 25–48 of ${demoProducts().length}.`);
    await page.getByRole('button', { name: /Previous page/ }).click();
    await expect.poll(() => status.innerText()).toMatch(/^Products 1–24/);

    await page.getByLabel('Colour').selectOption('Red');
    await page.getByLabel('Maximum price').fill('25');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => status.innerText()).toMatch(/^Products 1–\d+ of \d+ matching 2 filters\.$/);
    const facts = await page.locator('li.card .facts').allInnerTexts();
    expect(facts.length).toBeGreaterThan(0);
    expect(facts.every((f) => f.includes('Red'))).toBe(true);
    await shot(page, 'catalog-desktop.png');

    // A product's photos, then "more like this" from there.
    const title = await page.locator('li.card .card-title').first().innerText();
    await page.locator('li.card').first().locator('.photos-link').click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe(title);
    expect(await page.getByRole('list', { name: `Photos of ${title}` }).getByRole('img').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'More like this' }).click();
    await expect.poll(() => page.locator('.product-query figcaption').innerText()).toContain(title);
    await expect.poll(() => cards(page).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('"Try an example": one click searches the photo demo with a CC0 photo that is not in it', async () => {
    // A second service, on the real-photo demo catalog a new user gets.
    const photos = await startTestService({ name: 'embedded' }, { DEMO_CATALOG: 'photos' });
    try {
      const page = await desktop.newPage();
      page.on('pageerror', (error) => pageErrors.push(`photos /: ${error.message}`));
      await page.goto(`${photos.url}/`);
      const examples = page.getByRole('group', { name: 'Try an example' }).getByRole('button');
      await expect.poll(() => examples.count()).toBe(6);
      await page.getByRole('button', { name: 'Search with an example photo of T-shirt' }).click();
      await expect.poll(() => cards(page).count(), { timeout: 30_000 }).toBe(12);
      await expect.poll(() => page.getByRole('img', { name: /Your photo example-t-shirt\.webp/ }).isVisible()).toBe(true);
      const facts = await cards(page).locator('.facts').allInnerTexts();
      console.info(`[e2e] "Try an example" (T-shirt) top 12: ${facts.map((f) => f.split('·')[0]!.trim()).join(', ')}`);
      // The listing's categories are the dataset's labels; real garments come back, not drawings.
      expect(facts.every((f) => /^(dress|hat|longsleeve|outwear|pants|shirt|shoes|shorts|skirt|t-shirt)\b/.test(f))).toBe(true);
      expect(facts.filter((f) => /^(t-shirt|shirt|longsleeve)\b/.test(f)).length).toBeGreaterThanOrEqual(3);
      await shot(page, 'search-example-desktop.png');

      // "Find the product in the photo": the server's region comes back drawn as the crop box.
      await page.getByLabel('Find the product in the photo').check();
      const scene = await onTexturedBackground(await rasterizeSvg(target.svg, 300), { width: 900, height: 700, left: 420, top: 250, texture: 'planks', seed: 2 });
      await page.getByLabel('Choose a photo').setInputFiles({ name: 'on-the-floor.jpg', mimeType: 'image/jpeg', buffer: scene.photo });
      await expect.poll(() => page.getByTestId('status').innerText(), { timeout: 30_000 }).toMatch(/of the photo, from .* \(found automatically\)/);
      await expect.poll(() => page.getByRole('group', { name: /Search area/ }).getAttribute('aria-label')).not.toBe('Search area: the whole photo');
      await shot(page, 'search-auto-region-desktop.png');
    } finally {
      await photos.stop();
    }
  }, 300_000);

  it('serves GraphiQL at /graphiql, bundled (no CDN), and runs a query', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const outside: string[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol.startsWith('http')) outside.push(request.url());
    });
    const page = await open(context, '/graphiql');
    await page.locator('.graphiql-container').waitFor({ timeout: 60_000 });
    // The first example (catalogStats) is preloaded.
    await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 30_000 }).toContain('catalogStats');
    await page.locator('.graphiql-execute-button').click();
    await expect
      .poll(() => page.locator('.graphiql-response').innerText(), { timeout: 30_000 })
      .toMatch(new RegExp(`"products":\\s*${demoProducts().length}`));
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql.png') });
    expect(outside).toEqual([]);
    await context.close();
    expect(pageErrors.filter((e) => e.startsWith('/graphiql'))).toEqual([]);
  });
});
