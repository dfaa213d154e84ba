import type { ProductRecord } from '../db/index.js';

// A catalog the project draws itself, so a fresh clone has something to search: tops in
// 12 colours × 8 patterns × 3 cuts, each a unique look, rendered from SVG.

const COLOURS: [string, string][] = [
  ['Black', '#1b1b1b'], ['White', '#f4f4f0'], ['Navy', '#1f2f5c'], ['Red', '#c62828'],
  ['Green', '#2e7d32'], ['Yellow', '#f9d423'], ['Grey', '#8a8d91'], ['Blue', '#1e88e5'],
  ['Pink', '#f48fb1'], ['Orange', '#ef6c00'], ['Purple', '#6a1b9a'], ['Maroon', '#6d1a24'],
];
const PATTERNS = ['plain', 'striped', 'pinstriped', 'polka-dot', 'logo', 'zigzag', 'colour-block', 'ringer'] as const;
const CUTS = [
  { name: 'T-shirt', category: 'Tshirts', path: 'M70,30 L90,22 Q100,34 110,22 L130,30 L165,55 L150,78 L135,68 L135,175 L65,175 L65,68 L50,78 L35,55 Z' },
  { name: 'long-sleeve top', category: 'Tops', path: 'M70,30 L90,22 Q100,34 110,22 L130,30 L160,60 L178,140 L160,146 L135,80 L135,175 L65,175 L65,80 L40,146 L22,140 L40,60 Z' },
  { name: 'tank top', category: 'Tank tops', path: 'M78,25 L88,25 Q100,55 112,25 L122,25 L124,60 Q135,75 138,90 L138,175 L62,175 L62,90 Q65,75 76,60 Z' },
];
const BRANDS = ['Northwind', 'Kestrel', 'Lumen', 'Pebble'];
const LOGOS = [
  '<circle cx="112" cy="62" r="9"/>',
  '<polygon points="112,50 115,59 124,59 117,65 120,74 112,68 104,74 107,65 100,59 109,59"/>',
  '<polygon points="112,52 122,70 102,70"/>',
  '<rect x="104" y="54" width="16" height="16" transform="rotate(45 112 62)"/>',
];

export interface DemoProduct {
  product: ProductRecord;
  svg: string;
}

/** Every demo product, in a fixed order. */
export function demoProducts(): DemoProduct[] {
  const out: DemoProduct[] = [];
  CUTS.forEach((cut, c) =>
    COLOURS.forEach(([colourName, colour], k) =>
      PATTERNS.forEach((pattern, p) => {
        const i = out.length;
        const [, accent] = COLOURS[(k + 3 + p * 5 + c) % COLOURS.length] ?? COLOURS[0];
        const accentColour = accent === colour ? COLOURS[(k + 6) % COLOURS.length][1] : accent;
        const label = pattern === 'plain' ? '' : `${pattern} `;
        out.push({
          product: {
            source: 'demo',
            externalId: `demo-${String(i + 1).padStart(4, '0')}`,
            title: `${colourName} ${label}${cut.name}`,
            description: `A ${colourName.toLowerCase()} ${label}${cut.name} from the generated demo catalog.`,
            brand: BRANDS[(i * 7) % BRANDS.length],
            category: cut.category,
            colour: colourName,
            price: 9.99 + ((i * 37) % 31),
            currency: 'EUR',
            attributes: { pattern, cut: cut.name, demo: true },
          },
          svg: shirtSvg(cut.path, colour, accentColour, pattern, i),
        });
      }),
    ),
  );
  return out;
}

function shirtSvg(path: string, colour: string, accent: string, pattern: (typeof PATTERNS)[number], i: number): string {
  const decoration: Record<typeof pattern, string> = {
    plain: '',
    striped: range(0, 200, 16).map((y) => `<rect x="0" y="${y}" width="200" height="7"/>`).join(''),
    pinstriped: range(0, 200, 9).map((x) => `<rect x="${x}" y="0" width="2" height="200"/>`).join(''),
    'polka-dot': range(10, 200, 18).flatMap((y) => range((y - 10) % 36 ? 19 : 10, 200, 18).map((x) => `<circle cx="${x}" cy="${y}" r="4"/>`)).join(''),
    logo: LOGOS[i % LOGOS.length],
    zigzag: `<polyline fill="none" stroke="${accent}" stroke-width="9" points="${range(40, 170, 13).map((x, j) => `${x},${j % 2 ? 95 : 120}`).join(' ')}"/>`,
    'colour-block': '<rect x="0" y="110" width="200" height="90"/>',
    ringer: `<path d="${path}" fill="none" stroke="${accent}" stroke-width="10"/>`,
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200">
<rect width="200" height="200" fill="#ffffff"/>
<defs><clipPath id="shape"><path d="${path}"/></clipPath></defs>
<path d="${path}" fill="${colour}"/>
<g clip-path="url(#shape)" fill="${accent}">${decoration[pattern]}</g>
<path d="${path}" fill="none" stroke="#00000033" stroke-width="1.5"/>
</svg>`;
}

function range(start: number, end: number, step: number): number[] {
  const out: number[] = [];
  for (let v = start; v < end; v += step) out.push(v);
  return out;
}
