const priceFormats = new Map<string, Intl.NumberFormat>();

export function formatPrice(price: number | null | undefined, currency: string | null | undefined): string {
  if (price == null) return 'Price on request';
  const code = currency || 'EUR';
  let format = priceFormats.get(code);
  if (!format) {
    try {
      format = new Intl.NumberFormat(undefined, { style: 'currency', currency: code });
    } catch {
      format = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    priceFormats.set(code, format);
  }
  return format.format(price);
}

/** 0.9371 → "94%" (digits 0) or "93.7%" (digits 1). */
export const percent = (fraction: number, digits = 0) => `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(digits)}%`;

export const milliseconds = (ms: number) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
